import { randomInt } from "node:crypto";
import { type Socket, createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { performance } from "node:perf_hooks";
import { DueQueue } from "./due-queue.js";
import { type Emission, Impairer, type ImpairmentStats } from "./impairer.js";
import { type ImpairmentOptions, NetsimOptionsError, type OptionIssue, resolveImpairmentOptions } from "./options.js";
import { createRandom, deriveSeed, MAX_SEED } from "./random.js";

/** The random stream of the reply path's losses: after the impairer's, so that theirs keep their seeds. */
const REVERSE_LOSS_STREAM = 1000;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Options of `startNetsim`: where to listen and forward, and any impairment options (defaults: none). */
export interface NetsimOptions extends Partial<ImpairmentOptions> {
  /** Where senders send to. Default 127.0.0.1, port 0 (an ephemeral port: read `Netsim.port`). */
  readonly listen?: Partial<Endpoint>;
  /** Where datagrams are forwarded to. Replies from there go back to the last sender. */
  readonly target: Endpoint;
  /** Receive and send buffer size to ask the kernel for, on both sockets. Default 8 MiB. */
  readonly socketBufferBytes?: number;
}

/** Counters of a running or closed netsim; what the CLI prints as JSON. */
export interface NetsimStats extends Omit<ImpairmentStats, "emitted" | "bytesEmitted" | "held"> {
  readonly seed: number;
  readonly elapsedMs: number;
  /** Datagrams handed to the kernel towards the target (garbage and copies included). */
  readonly datagramsOut: number;
  readonly bytesOut: number;
  /** Sends the kernel refused (e.g. ECONNREFUSED when nothing listens on the target). */
  readonly sendErrors: number;
  /** Datagrams delayed or held back, not yet sent. 0 after `close()`. */
  readonly pending: number;
  /** Datagrams from the target back towards the sender. */
  readonly repliesIn: number;
  readonly repliesOut: number;
  /** Replies lost (`reverseLoss`). */
  readonly repliesDropped: number;
  /** Buffer sizes the kernel granted (Linux reports twice what it allows for data). */
  readonly recvBufferBytes: number;
  readonly sendBufferBytes: number;
}

export interface Netsim {
  /** The port it listens on. */
  readonly port: number;
  readonly options: ImpairmentOptions;
  stats(): NetsimStats;
  /** Stops listening, sends what is delayed or held back when it is due, closes; the final stats. */
  close(): Promise<NetsimStats>;
}

export const DEFAULT_SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;
const DEFAULT_LISTEN_HOST = "127.0.0.1";

/**
 * Starts forwarding from `options.listen` to `options.target` through an `Impairer`.
 * Throws `NetsimOptionsError` for bad options; rejects if a socket cannot bind.
 */
export async function startNetsim(options: NetsimOptions): Promise<Netsim> {
  const impairment = resolveImpairmentOptions(options, () => randomInt(0, MAX_SEED + 1));
  checkEndpoints(options);
  const listenHost = options.listen?.host ?? DEFAULT_LISTEN_HOST;
  const bufferBytes = options.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
  const impairer = new Impairer(impairment);
  const queue = new DueQueue<Uint8Array>();
  const startedMs = performance.now();

  const downstream = await bindSocket(listenHost, options.listen?.port ?? 0, bufferBytes);
  let upstream: Socket;
  try {
    upstream = await bindSocket(isIPv6(options.target.host) ? "::" : "0.0.0.0", 0, bufferBytes);
  } catch (error) {
    downstream.close();
    throw error;
  }
  await new Promise<void>((resolve, reject) => {
    upstream.once("error", reject);
    upstream.connect(options.target.port, options.target.host, () => {
      upstream.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    downstream.close();
    upstream.close();
    throw error;
  });

  const shell = {
    datagramsOut: 0,
    bytesOut: 0,
    sendErrors: 0,
    repliesIn: 0,
    repliesOut: 0,
    repliesDropped: 0,
    inFlight: 0,
  };
  const reverseRandom = createRandom(deriveSeed(impairment.seed, REVERSE_LOSS_STREAM));
  let client: { readonly address: string; readonly port: number } | undefined;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAtMs = Number.POSITIVE_INFINITY;
  let drained: (() => void) | undefined;

  // One callback for every send: counts errors and what is still in the kernel's hands.
  const onSent = (error: Error | null): void => {
    shell.inFlight--;
    if (error) shell.sendErrors++;
    if (closing) checkDrained();
  };
  const send = (datagram: Uint8Array): void => {
    shell.inFlight++;
    shell.datagramsOut++;
    shell.bytesOut += datagram.length;
    upstream.send(datagram, onSent);
  };
  const schedule = (emissions: readonly Emission[], nowMs: number): void => {
    for (const emission of emissions) {
      // Straight out when due and nothing earlier waits: the common case, with no queueing.
      if (emission.sendAtMs <= nowMs && queue.peekTime() > emission.sendAtMs) send(emission.datagram);
      else queue.push(emission.sendAtMs, emission.datagram);
    }
  };
  const arm = (): void => {
    const wakeMs = Math.min(queue.peekTime(), impairer.nextReleaseMs() ?? Number.POSITIVE_INFINITY);
    if (wakeMs === Number.POSITIVE_INFINITY || wakeMs >= timerAtMs) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAtMs = wakeMs;
    timer = setTimeout(onTimer, Math.max(0, wakeMs - performance.now()));
  };
  const onTimer = (): void => {
    timer = undefined;
    timerAtMs = Number.POSITIVE_INFINITY;
    const nowMs = performance.now();
    schedule(impairer.poll(nowMs), nowMs);
    for (let datagram = queue.popDue(nowMs); datagram !== undefined; datagram = queue.popDue(nowMs)) send(datagram);
    arm();
    if (closing) checkDrained();
  };
  const checkDrained = (): void => {
    if (queue.size === 0 && impairer.nextReleaseMs() === undefined && shell.inFlight === 0) drained?.();
  };

  downstream.on("message", (datagram, from) => {
    if (closing) return;
    client = from;
    const nowMs = performance.now();
    schedule(impairer.push(datagram, nowMs), nowMs);
    if (queue.size > 0 || impairer.nextReleaseMs() !== undefined) arm();
  });
  upstream.on("message", (reply) => {
    shell.repliesIn++;
    if (closing || client === undefined) return;
    if (impairment.reverseLoss > 0 && reverseRandom.next() < impairment.reverseLoss) {
      shell.repliesDropped++;
      return;
    }
    shell.repliesOut++;
    downstream.send(reply, client.port, client.address);
  });
  // Errors of sends without a callback (replies) and of receiving; counted, never thrown.
  downstream.on("error", () => shell.sendErrors++);
  upstream.on("error", () => shell.sendErrors++);

  const recvBufferBytes = Math.min(downstream.getRecvBufferSize(), upstream.getRecvBufferSize());
  const sendBufferBytes = Math.min(downstream.getSendBufferSize(), upstream.getSendBufferSize());
  const stats = (): NetsimStats => {
    const { emitted: _emitted, bytesEmitted: _bytesEmitted, held, ...counts } = impairer.stats();
    return {
      seed: impairment.seed,
      elapsedMs: Math.round(performance.now() - startedMs),
      ...counts,
      datagramsOut: shell.datagramsOut,
      bytesOut: shell.bytesOut,
      sendErrors: shell.sendErrors,
      pending: queue.size + held,
      repliesIn: shell.repliesIn,
      repliesOut: shell.repliesOut,
      repliesDropped: shell.repliesDropped,
      recvBufferBytes,
      sendBufferBytes,
    };
  };

  let closed: Promise<NetsimStats> | undefined;
  const close = (): Promise<NetsimStats> => {
    closed ??= (async () => {
      closing = true;
      await new Promise<void>((resolve) => downstream.close(resolve));
      const nowMs = performance.now();
      schedule(impairer.flush(nowMs), nowMs);
      await new Promise<void>((resolve) => {
        drained = resolve;
        arm();
        checkDrained();
      });
      await new Promise<void>((resolve) => upstream.close(resolve));
      return stats();
    })();
    return closed;
  };

  return { port: downstream.address().port, options: impairment, stats, close };
}

function checkEndpoints(options: NetsimOptions): void {
  const issues: OptionIssue[] = [];
  const port = (path: string, value: unknown, least: number): void => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < least || value > 65_535) {
      issues.push({ path, message: `must be an integer between ${least} and 65535, got ${JSON.stringify(value)}` });
    }
  };
  if (options.listen?.port !== undefined) port("listen.port", options.listen.port, 0);
  port("target.port", options.target.port, 1);
  if (typeof options.target.host !== "string" || options.target.host === "") {
    issues.push({
      path: "target.host",
      message: `must be a host name or address, got ${JSON.stringify(options.target.host)}`,
    });
  }
  if (issues.length > 0) throw new NetsimOptionsError(issues);
}

function bindSocket(host: string, port: number, bufferBytes: number): Promise<Socket> {
  const socket = createSocket({
    type: isIPv6(host) ? "udp6" : "udp4",
    recvBufferSize: bufferBytes,
    sendBufferSize: bufferBytes,
  });
  return new Promise((resolve, reject) => {
    socket.once("error", (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}
