/**
 * Does an X display really answer? Qt aborts the whole process when imshow cannot
 * connect, so the display is checked from JavaScript first: connect to the server's
 * socket and perform the X11 connection setup (with the MIT-MAGIC-COOKIE-1 cookie
 * from the Xauthority file when it has one for this display). Only a "Success"
 * reply counts.
 */
import { readFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { homedir, hostname } from "node:os";
import { join } from "node:path";

export interface DisplayAddress {
  /** Empty for a local display (`:0`), else the host of `host:0`. */
  readonly host: string;
  readonly number: number;
}

export type DisplayProbe = { readonly available: true } | { readonly available: false; readonly reason: string };

export interface DisplayProbeOptions {
  /** Xauthority file; default `~/.Xauthority`. Apps pass `$XAUTHORITY` from their config. */
  readonly xauthority?: string | undefined;
  /** Default 1000 ms. */
  readonly timeoutMs?: number;
}

/** Parses `:0`, `:99.0`, `unix:1`, `localhost:10.0`; undefined when malformed. */
export function parseDisplay(display: string): DisplayAddress | undefined {
  const match = /^([^:]*):(\d+)(?:\.\d+)?$/.exec(display.trim());
  if (match === null) return undefined;
  const host = match[1] === "unix" ? "" : (match[1] ?? "");
  return { host, number: Number(match[2]) };
}

const FAMILY_LOCAL = 256;
const FAMILY_WILD = 65535;
const COOKIE_NAME = "MIT-MAGIC-COOKIE-1";

interface Cookie {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Finds the cookie for a display in an Xauthority file; undefined when none (or no file). */
export async function findCookie(path: string, address: DisplayAddress): Promise<Cookie | undefined> {
  const file = await readFile(path).catch(() => undefined);
  if (file === undefined) return undefined;
  let offset = 0;
  const field = (): Buffer | undefined => {
    if (offset + 2 > file.length) return undefined;
    const length = file.readUInt16BE(offset);
    if (offset + 2 + length > file.length) return undefined;
    const value = file.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    return value;
  };
  let fallback: Cookie | undefined;
  while (offset + 2 <= file.length) {
    const family = file.readUInt16BE(offset);
    offset += 2;
    const addr = field();
    const number = field();
    const name = field();
    const data = field();
    if (addr === undefined || number === undefined || name === undefined || data === undefined) break;
    if (name.toString("latin1") !== COOKIE_NAME) continue;
    if (family !== FAMILY_WILD && number.toString("latin1") !== String(address.number)) continue;
    const cookie = { name: COOKIE_NAME, data: new Uint8Array(data) };
    const local = family === FAMILY_LOCAL && addr.toString("latin1") === hostname();
    if (family === FAMILY_WILD || (address.host === "" && local)) return cookie;
    fallback ??= cookie;
  }
  return fallback;
}

function setupRequest(cookie: Cookie | undefined): Buffer {
  const pad = (n: number): number => (4 - (n % 4)) % 4;
  const name = Buffer.from(cookie?.name ?? "", "latin1");
  const data = Buffer.from(cookie?.data ?? new Uint8Array());
  const request = Buffer.alloc(12 + name.length + pad(name.length) + data.length + pad(data.length));
  request.write("l", 0, "latin1"); // little-endian
  request.writeUInt16LE(11, 2); // protocol major version
  request.writeUInt16LE(0, 4); // minor
  request.writeUInt16LE(name.length, 6);
  request.writeUInt16LE(data.length, 8);
  name.copy(request, 12);
  data.copy(request, 12 + name.length + pad(name.length));
  return request;
}

function attempt(open: () => Socket, request: Buffer, timeoutMs: number): Promise<DisplayProbe> {
  return new Promise((resolve) => {
    const socket = open();
    let reply = Buffer.alloc(0);
    const finish = (result: DisplayProbe): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ available: false, reason: `no answer within ${timeoutMs} ms` }));
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish({ available: false, reason: `cannot connect (${error.code ?? error.message})` }),
    );
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (reply.length < 8) return;
      const status = reply[0];
      if (status === 1) return finish({ available: true });
      if (status === 2) return finish({ available: false, reason: "the server wants further authentication" });
      const reasonLength = reply[1] ?? 0;
      if (reply.length < 8 + reasonLength) return;
      const why = reply
        .subarray(8, 8 + reasonLength)
        .toString("latin1")
        .trim();
      finish({ available: false, reason: `the server refused the connection (${why})` });
    });
    socket.on("close", () => finish({ available: false, reason: "the server closed the connection" }));
  });
}

/**
 * Checks that `display` (the value of DISPLAY) names an X server that accepts a
 * connection. Never throws.
 */
export async function probeDisplay(
  display: string | undefined,
  options: DisplayProbeOptions = {},
): Promise<DisplayProbe> {
  if (display === undefined || display.trim() === "") return { available: false, reason: "DISPLAY is not set" };
  const address = parseDisplay(display);
  if (address === undefined) return { available: false, reason: `DISPLAY=${display} is not of the form [host]:number` };
  const timeoutMs = options.timeoutMs ?? 1000;
  const cookie = await findCookie(options.xauthority ?? join(homedir(), ".Xauthority"), address);
  const request = setupRequest(cookie);
  let result: DisplayProbe;
  if (address.host === "") {
    const path = `/tmp/.X11-unix/X${address.number}`;
    result = await attempt(() => connect({ path }), request, timeoutMs);
    // Some servers listen only on the abstract socket of the same name.
    if (!result.available && result.reason.startsWith("cannot connect")) {
      const abstract = await attempt(() => connect({ path: `\0${path}` }), request, timeoutMs);
      if (abstract.available || !abstract.reason.startsWith("cannot connect")) result = abstract;
    }
  } else {
    result = await attempt(() => connect({ host: address.host, port: 6000 + address.number }), request, timeoutMs);
  }
  return result.available ? result : { available: false, reason: `DISPLAY=${display}: ${result.reason}` };
}
