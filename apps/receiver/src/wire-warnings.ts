/**
 * Datagrams the receiver drops for a reason the user can fix: a key on one
 * side only, different keys on the two sides, or the other wire format on the
 * sender. Silence would leave the user guessing: the first datagram dropped
 * for each such reason earns one warning saying what to fix. (The key itself
 * is never part of a message.)
 */
import type { ProtocolCounters } from "./ingest/messages.js";

type V1Counter =
  | "datagramsAuthRequired"
  | "datagramsUntagged"
  | "datagramsUnauthenticated"
  | "datagramsUnencrypted"
  | "datagramsDecrypted"
  | "datagramsLegacyLike";
type LegacyCounter = "datagramsV1Like";
type RtpCounter = "datagramsV1Like";

export type WireProblem =
  | {
      readonly format: "v1";
      readonly counter: V1Counter;
      readonly message: string;
      /** Said only by a receiver with this --encrypt; by any when absent. */
      readonly encrypt?: boolean;
      /** Default warn. */
      readonly level?: "info" | "warn";
    }
  | {
      readonly format: "legacy";
      readonly counter: LegacyCounter;
      readonly message: string;
      readonly encrypt?: undefined;
      readonly level?: undefined;
    }
  | {
      readonly format: "rtp";
      readonly counter: RtpCounter;
      readonly message: string;
      readonly encrypt?: undefined;
      readonly level?: undefined;
    };

export const WIRE_PROBLEMS: readonly WireProblem[] = [
  {
    format: "v1",
    counter: "datagramsAuthRequired",
    message:
      "datagrams carry an authentication tag but no --key is configured, so they are dropped: the sender uses a shared key or passphrase; give the receiver the same --key (or --key-file, RECEIVER_KEY, or the same --passphrase)",
  },
  {
    format: "v1",
    counter: "datagramsUntagged",
    message:
      "datagrams arrive without an authentication tag and are dropped because --key is set: give the sender the same --key (or --key-file, SENDER_KEY, or the same --passphrase), or drop the receiver's key",
  },
  {
    format: "v1",
    counter: "datagramsUnauthenticated",
    message:
      "datagrams arrive with an authentication tag that does not match --key (or --passphrase) and are dropped: the sender uses a different key or passphrase (give both sides the same one), or someone is sending forged datagrams",
  },
  {
    format: "v1",
    counter: "datagramsUnencrypted",
    encrypt: true,
    message:
      "datagrams arrive authenticated but not encrypted and are dropped because --encrypt is on: the sender has --encrypt off (or is older than encryption); turn encryption on at the sender, or accept them here with --encrypt off (the video then crosses the network in the clear)",
  },
  {
    format: "v1",
    counter: "datagramsDecrypted",
    encrypt: false,
    level: "info",
    message:
      "datagrams arrive encrypted and are accepted (--encrypt off accepts encrypted and authenticated-only ones); once every sender encrypts, --encrypt on refuses the unencrypted ones",
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
  readonly #encrypt: boolean;

  /** `encrypt`: the receiver's --encrypt (on by default), for the problems only one mode has. */
  constructor(options: { readonly encrypt: boolean } = { encrypt: true }) {
    this.#encrypt = options.encrypt;
  }

  check(protocol: ProtocolCounters): WireProblem[] {
    const found: WireProblem[] = [];
    for (const problem of WIRE_PROBLEMS) {
      if (problem.encrypt !== undefined && problem.encrypt !== this.#encrypt) continue;
      if (this.#warned.has(problem) || count(protocol, problem) === 0) continue;
      this.#warned.add(problem);
      found.push(problem);
    }
    return found;
  }
}
