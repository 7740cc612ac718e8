// A private LAN made of Linux network namespaces, for multicast tests and benchmarks: one
// namespace holds a bridge, every host is a namespace with one veth port on it and a route
// for 239.0.0.0/8 through that port. Multicast sent there never reaches this machine's own
// loopback or any real interface. Needs root (CI runs as root); `createLan` says why not
// when the kernel refuses, so that the caller can skip with that reason.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { spawnChild, type Child, type ChildOptions } from "./child.js";
import { receiverArgv, senderArgv, untilListening } from "./apps.js";

/** The administratively scoped groups (RFC 2365): the only ones a test sends to. */
export const LAN_MULTICAST_ROUTE = "239.0.0.0/8";
const SUBNET = "10.231.0";
const PREFIX = 24;
/** Commands that set the LAN up are quick; one that hangs is a broken system. */
const COMMAND_TIMEOUT_MS = 10_000;

export interface LanHost {
  /** The namespace's name: give it to `ip netns exec` (or use `spawnIn`). */
  readonly namespace: string;
  /** Its address on the LAN, e.g. 10.231.0.2. */
  readonly address: string;
}

export interface Lan {
  readonly hosts: readonly LanHost[];
  /** Runs `ip` with these arguments in the host's namespace; throws with its stderr on failure. */
  ip(host: LanHost, args: readonly string[]): void;
  /** Runs a command in the host's namespace (synchronously; for nft and the like). */
  run(host: LanHost, command: string, args: readonly string[]): void;
  /** Deletes every namespace (and so every link) of this LAN. Safe to call twice. */
  remove(): void;
}

export type LanResult =
  { readonly kind: "ok"; readonly lan: Lan } | { readonly kind: "refused"; readonly reason: string };

function run(command: string, args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: COMMAND_TIMEOUT_MS });
  const output = `${result.stderr ?? ""}${result.error === undefined ? "" : result.error.message}`.trim();
  return { ok: result.status === 0, output };
}

function must(command: string, args: readonly string[]): void {
  const result = run(command, args);
  if (!result.ok) throw new Error(`${command} ${args.join(" ")}: ${result.output || "failed"}`);
}

/**
 * Creates `hostCount` hosts (namespaces) on one bridge, with unique names so that runs in
 * parallel or left over by a killed run never collide. On any failure everything made so far
 * is removed and the reason returned.
 */
export function createLan(hostCount: number): LanResult {
  if (hostCount < 1 || hostCount > 200) throw new RangeError(`hostCount must be 1..200, got ${hostCount}`);
  const tag = `udpcam-${process.pid}-${randomBytes(3).toString("hex")}`;
  const bridge = `${tag}-br`;
  const made: string[] = [];
  const hosts: LanHost[] = [];
  const remove = (): void => {
    for (const namespace of made.splice(0).reverse()) run("ip", ["netns", "delete", namespace]);
  };
  try {
    must("ip", ["netns", "add", bridge]);
    made.push(bridge);
    must("ip", ["-n", bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
    must("ip", ["-n", bridge, "link", "set", "br0", "up"]);
    for (let i = 0; i < hostCount; i++) {
      const host: LanHost = { namespace: `${tag}-h${i}`, address: `${SUBNET}.${i + 2}` };
      must("ip", ["netns", "add", host.namespace]);
      made.push(host.namespace);
      const port = `p${i}`;
      must("ip", ["-n", host.namespace, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", bridge]);
      must("ip", ["-n", bridge, "link", "set", port, "master", "br0", "up"]);
      must("ip", ["-n", host.namespace, "addr", "add", `${host.address}/${PREFIX}`, "dev", "eth0"]);
      must("ip", ["-n", host.namespace, "link", "set", "lo", "up"]);
      must("ip", ["-n", host.namespace, "link", "set", "eth0", "up"]);
      must("ip", ["-n", host.namespace, "route", "add", LAN_MULTICAST_ROUTE, "dev", "eth0"]);
      hosts.push(host);
    }
  } catch (error) {
    remove();
    return { kind: "refused", reason: (error as Error).message };
  }
  return {
    kind: "ok",
    lan: {
      hosts,
      ip: (host, args) => must("ip", ["-n", host.namespace, ...args]),
      run: (host, command, args) => must("ip", ["netns", "exec", host.namespace, command, ...args]),
      remove,
    },
  };
}

/**
 * Drops `perMille` of the UDP datagrams to `port` as they enter `host` (nftables, before any
 * socket sees them): a loss stage on one receiver's link only. Throws when nft is missing or refused.
 */
export function addIngressLoss(lan: Lan, host: LanHost, port: number, perMille: number): void {
  lan.run(host, "nft", ["add", "table", "inet", "udpcam_loss"]);
  lan.run(host, "nft", [
    "add",
    "chain",
    "inet",
    "udpcam_loss",
    "pre",
    "{ type filter hook prerouting priority -300; }",
  ]);
  lan.run(host, "nft", [
    "add",
    "rule",
    "inet",
    "udpcam_loss",
    "pre",
    "udp",
    "dport",
    String(port),
    "numgen",
    "random",
    "mod",
    "1000",
    "<",
    String(perMille),
    "counter",
    "drop",
  ]);
}

/** Datagrams the loss stage of `addIngressLoss` dropped so far. */
export function ingressLossCount(host: LanHost): number {
  const result = spawnSync("ip", ["netns", "exec", host.namespace, "nft", "list", "table", "inet", "udpcam_loss"], {
    encoding: "utf8",
    timeout: COMMAND_TIMEOUT_MS,
  });
  const match = /counter packets (\d+)/.exec(result.stdout ?? "");
  return match === null ? 0 : Number(match[1]);
}

/** Node with `args` in the host's namespace, as a child (the `ip netns exec` wrapper execs node: signals reach it). */
export function spawnIn(host: LanHost, args: readonly string[], options: ChildOptions = {}): Child {
  return spawnChild("ip", ["netns", "exec", host.namespace, process.execPath, ...args], options);
}

/** The receiver in the host's namespace; resolves once it listens (and has joined its group). */
export function startReceiverIn(host: LanHost, args: readonly string[], options: ChildOptions = {}): Promise<Child> {
  return untilListening(spawnIn(host, receiverArgv(args), { name: `receiver@${host.address}`, ...options }));
}

export function startSenderIn(host: LanHost, args: readonly string[], options: ChildOptions = {}): Child {
  return spawnIn(host, senderArgv(args), { name: `sender@${host.address}`, ...options });
}
