import { describe, expect, it } from "vitest";
import { parseSenderConfig } from "./config.js";
import { rtpSideProblem } from "./rtp-encoder.js";

const parse = (argv: string[]) => parseSenderConfig({ argv, env: {}, cwd: "/tmp", readFile: () => "" });
const errors = (argv: string[]): string => {
  const result = parse(argv);
  return result.kind === "errors" ? result.errors.join("\n") : "";
};

describe("sender config: --protocol rtp", () => {
  it("takes --sdp (resolved against the working directory)", () => {
    expect(parse(["--protocol", "rtp", "--sdp", "stream.sdp"])).toMatchObject({
      kind: "ok",
      config: { protocol: "rtp", sdp: "/tmp/stream.sdp" },
    });
  });

  it("refuses what RTP/JPEG has no room for, and --sdp without rtp, each with one line", () => {
    expect(errors(["--protocol", "rtp", "--key", "0123456789abcdef"])).toBe(
      "--key: the RTP/JPEG protocol has no room for an authentication tag, use --protocol v1 or drop the key",
    );
    expect(errors(["--protocol", "rtp", "--fec", "0.2"])).toBe(
      "--fec: RTP/JPEG carries no forward error correction, drop --fec or use --protocol v1",
    );
    expect(errors(["--sdp", "s.sdp"])).toBe("--sdp: a session description is for --protocol rtp, add it or drop --sdp");
  });

  it("sizes RFC 2435 carries: sides of 8 to 2040 in steps of 8", () => {
    expect(rtpSideProblem(1280, 720)).toBeUndefined();
    expect(rtpSideProblem(1920, 1080)).toBeUndefined();
    expect(rtpSideProblem(642, 480)).toMatch(
      /^frames of 642x480: RTP\/JPEG carries sides from 8 to 2040 pixels in steps of 8 \(width 642\); set --width and --height/,
    );
    expect(rtpSideProblem(2048, 1080)).toMatch(/width 2048/);
  });
});
