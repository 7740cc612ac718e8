import type { Socket } from "node:dgram";
import { UserError } from "@udpcam/appkit";
import type { Destination } from "./destination.js";

export interface MulticastSettings {
  readonly ttl: number;
  readonly multicastInterface: string | undefined;
}

/**
 * Sets the hop limit and outgoing interface for a group destination; nothing for unicast.
 * Loopback of the group stays on (the kernel's default), so receivers on this machine
 * that join it get the stream too. Returns a phrase for the log, or undefined for unicast.
 */
export function configureMulticast(
  socket: Socket,
  destination: Destination,
  settings: MulticastSettings,
): string | undefined {
  if (!destination.isMulticast) return undefined;
  socket.setMulticastTTL(settings.ttl);
  if (settings.multicastInterface !== undefined) {
    try {
      socket.setMulticastInterface(settings.multicastInterface);
    } catch (error) {
      throw new UserError(
        `--multicast-interface: ${settings.multicastInterface} is not an address of an interface of this machine (${(error as NodeJS.ErrnoException).code ?? "refused"}), use one of its IPv4 addresses`,
        { cause: error },
      );
    }
  }
  return `multicast, TTL ${settings.ttl}${settings.multicastInterface === undefined ? "" : ` via ${settings.multicastInterface}`}`;
}
