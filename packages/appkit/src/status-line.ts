export interface StatusStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

/** One line on a terminal, rewritten in place; nothing at all when not a terminal. */
export class StatusLine {
  #shown = false;

  constructor(private readonly stream: StatusStream) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[2K${text}`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown) return;
    this.stream.write("\r\x1b[2K");
    this.#shown = false;
  }
}
