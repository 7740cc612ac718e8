export interface StatusStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

/** One line on a terminal, rewritten in place; nothing at all when not a terminal. */
export class StatusLine {
  #shown: string | undefined;

  constructor(private readonly stream: StatusStream) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[2K${text}`);
    this.#shown = text;
  }

  clear(): void {
    if (this.#shown === undefined) return;
    this.stream.write("\r\x1b[2K");
    this.#shown = undefined;
  }

  /**
   * A destination for the logger on the same terminal: each log line replaces
   * the status line, which is drawn again below it. (Terminal writes are synchronous.)
   */
  logDestination(): { write(text: string): boolean } {
    return {
      write: (text) => {
        const shown = this.#shown;
        this.clear();
        this.stream.write(text);
        if (shown !== undefined) this.update(shown);
        return true;
      },
    };
  }
}
