/**
 * An MJPEG-over-HTTP camera for tests, as IP cameras serve one: `multipart/x-mixed-replace`,
 * one JPEG per part, at a steady rate, from the first given frame for every client. Listens
 * on 127.0.0.1 only.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const BOUNDARY = "udpcamframe";

export interface MjpegHttpCamera {
  readonly url: string;
  /** Clients served so far. */
  readonly clients: number;
  close(): Promise<void>;
}

/** Serves `jpegs` in a loop at `fps` to every client of `/video`. */
export async function startMjpegHttpCamera(jpegs: readonly Uint8Array[], fps: number): Promise<MjpegHttpCamera> {
  const streams = new Set<ServerResponse>();
  let clients = 0;
  const server = createServer((request, response) => {
    if (request.url !== "/video") {
      response.writeHead(404).end();
      return;
    }
    clients++;
    streams.add(response);
    response.writeHead(200, {
      "Content-Type": `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      "Cache-Control": "no-cache",
      Connection: "close",
    });
    let next = 0;
    const timer = setInterval(() => {
      const jpeg = jpegs[next % jpegs.length];
      next++;
      if (jpeg === undefined) return;
      response.write(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      response.write(jpeg);
      response.write("\r\n");
    }, 1000 / fps);
    response.on("close", () => {
      clearInterval(timer);
      streams.delete(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/video`,
    get clients() {
      return clients;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of streams) response.destroy();
        server.close(() => resolve());
      }),
  };
}
