import { createSocket, type Socket } from "node:dgram";
import { UserError, isMulticastIpv4 } from "@udpcam/appkit/net";

/**
 * Binds the receiving socket, turning the usual mistakes into one clear line. A multicast
 * group is bound (address and port, so only that group's datagrams arrive) with
 * SO_REUSEADDR: every receiver of the group on this machine binds the same port.
 */
export function bindSocket(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: "udp4", reuseAddr: isMulticastIpv4(host) });
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.close();
      reject(describeBindError(error, host, port));
    };
    socket.once("error", onError);
    socket.bind(port, host, () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

function describeBindError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (error.code) {
    case "EADDRINUSE":
      return new UserError(
        `--port: ${port} is already in use on ${host} (another receiver?), stop it or choose another with --port`,
      );
    case "EACCES":
      return new UserError(`--port: not allowed to listen on port ${port}, use a port from 1024 up`);
    case "EADDRNOTAVAIL":
      return new UserError(
        `--host: ${host} is not an address of this machine, use 0.0.0.0 (every interface) or one of its addresses`,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UserError(`--host: cannot resolve "${host}", use an IPv4 address like 0.0.0.0`);
    default:
      return error;
  }
}
