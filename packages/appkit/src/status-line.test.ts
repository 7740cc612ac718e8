import { describe, expect, it } from "vitest";
import { StatusLine } from "./status-line.js";

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) > 0 } };
}

describe("StatusLine", () => {
  it("rewrites one line in place on a terminal", () => {
    const { writes, stream } = terminal(true);
    const status = new StatusLine(stream);
    status.update("a");
    status.update("b");
    status.clear();
    expect(writes).toEqual(["\r\x1b[2Ka", "\r\x1b[2Kb", "\r\x1b[2K"]);
  });

  it("writes nothing when not a terminal", () => {
    const { writes, stream } = terminal(false);
    const status = new StatusLine(stream);
    status.update("a");
    status.clear();
    expect(writes).toEqual([]);
  });

  it("puts log lines above the status line, then draws it again", () => {
    const { writes, stream } = terminal(true);
    const status = new StatusLine(stream);
    status.update("50 fps");
    status.logDestination().write("INFO: new stream\n");
    expect(writes.join("")).toBe("\r\x1b[2K50 fps\r\x1b[2KINFO: new stream\n\r\x1b[2K50 fps");
  });
});
