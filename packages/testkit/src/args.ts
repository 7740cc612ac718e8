// The receiver's command line as the end-to-end tests and the benchmark write it again and
// again: a port on loopback, where to record, and the flags that end a run and count it.

export interface ReceiveOptions {
  /** The file to record to, or "none". */
  readonly output: string;
  readonly fourcc?: string;
  /** The --stats file. */
  readonly stats?: string;
  /** --idle-exit, in seconds. */
  readonly idleExit?: number;
}

/** `--port P --output O`, then `--fourcc`, `--stats` and `--idle-exit` where given. */
export function receiveArgs(port: number, options: ReceiveOptions): string[] {
  return [
    ...["--port", String(port), "--output", options.output],
    ...(options.fourcc === undefined ? [] : ["--fourcc", options.fourcc]),
    ...(options.stats === undefined ? [] : ["--stats", options.stats]),
    ...(options.idleExit === undefined ? [] : ["--idle-exit", String(options.idleExit)]),
  ];
}

/** `--host 127.0.0.1` and then {@link receiveArgs}. */
export function loopbackReceiveArgs(port: number, options: ReceiveOptions): string[] {
  return ["--host", "127.0.0.1", ...receiveArgs(port, options)];
}

export interface SourceOptions {
  /** --source: a file, a URL, or "test" (the pattern). */
  readonly source: string;
  readonly codec?: "jpeg" | "raw";
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly frames?: number;
}

/** The sender's `--source S`, then `--codec`, `--width`, `--height`, `--fps` and `--frames` where given. */
export function sourceArgs(options: SourceOptions): string[] {
  const given = (flag: string, value: string | number | undefined): string[] =>
    value === undefined ? [] : [flag, String(value)];
  return [
    ...["--source", options.source],
    ...given("--codec", options.codec),
    ...given("--width", options.width),
    ...given("--height", options.height),
    ...given("--fps", options.fps),
    ...given("--frames", options.frames),
  ];
}

/** The sender's `--host 127.0.0.1 --port P`. */
export function loopbackTargetArgs(port: number): string[] {
  return ["--host", "127.0.0.1", "--port", String(port)];
}
