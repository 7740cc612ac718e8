/**
 * Datagrams the receiver drops for a reason the user can fix: a key on one
 * side only, different keys on the two sides, or the other wire format on the
 * sender. Silence would leave the user guessing: the first datagram dropped
 * for each such reason earns one warning saying what to fix. (The key itself
 * is never part of a message.)
 */
import type { ProtocolCounters } from "./ingest/messages.js";

type V1Counter = "datagramsAuthRequired" | "datagramsUntagged" | "datagramsUnauthenticated" | "datagramsLegacyLike";
type LegacyCounter = "datagramsV1Like";
type RtpCounter = "datagramsV1Like";

export type WireProblem =
  | { readonly format: "v1"; readonly counter: V1Counter; readonly message: string }
  | { readonly format: "legacy"; readonly counter: LegacyCounter; readonly message: string }
  | { readonly format: "rtp"; readonly counter: RtpCounter; readonly message: string };

export const WIRE_PROBLEMS: readonly WireProblem[] = [
  {
    format: "v1",
    counter: "datagramsAuthRequired",
    message:
      "datagrams carry an authentication tag but no --key is configured, so they are dropped: the sender uses a shared key; give the receiver the same --key (or --key-file, or RECEIVER_KEY)",
  },
  {
    format: "v1",
    counter: "datagramsUntagged",
    message:
      "datagrams arrive without an authentication tag and are dropped because --key is set: give the sender the same --key (or --key-file, or SENDER_KEY), or drop the receiver's key",
  },
  {
    format: "v1",
    counter: "datagramsUnauthenticated",
    message:
      "datagrams arrive with an authentication tag that does not match --key and are dropped: the sender uses a different key (give both sides the same one), or someone is sending forged datagrams",
  },
  {
    format: "v1",
    counter: "datagramsLegacyLike",
    message:
      "datagrams in the original scripts' format (46,081 bytes, index 0..19) arrive and are dropped: receive them with --protocol legacy",
  },
  {
    format: "legacy",
    counter: "datagramsV1Like",
    message:
      "udpcam v1 datagrams arrive and are dropped while --protocol is legacy: receive them with --protocol v1 (the default)",
  },
  {
    format: "rtp",
    counter: "datagramsV1Like",
    message:
      "udpcam v1 datagrams arrive and are dropped while --protocol is rtp: receive them with --protocol v1 (the default)",
  },
];

function count(protocol: ProtocolCounters, problem: WireProblem): number {
  if (problem.format === "v1") return protocol.format === "v1" ? protocol[problem.counter] : 0;
  if (problem.format === "rtp") return protocol.format === "rtp" ? protocol[problem.counter] : 0;
  return protocol.format === "legacy" ? protocol[problem.counter] : 0;
}

/** Watches the protocol's counters; `check` returns each problem the first time its counter moves. */
export class WireWatch {
  readonly #warned = new Set<WireProblem>();

  check(protocol: ProtocolCounters): WireProblem[] {
    const found: WireProblem[] = [];
    for (const problem of WIRE_PROBLEMS) {
      if (this.#warned.has(problem) || count(protocol, problem) === 0) continue;
      this.#warned.add(problem);
      found.push(problem);
    }
    return found;
  }
}
