/** Joining the group that --host names (any-source or source-specific), and leaving it on stop. */
import type { Socket } from "node:dgram";
import { UserError } from "@udpcam/appkit/net";

export interface GroupOptions {
  readonly multicastInterface: string | undefined;
  /** A source-specific join (SSM): only this sender's datagrams to the group. */
  readonly sourceAddress: string | undefined;
}

export interface GroupMembership {
  /** For the log: "joined 239.255.0.1 on 10.0.0.2 from 10.0.0.1". */
  readonly description: string;
  /** Leaves the group (IGMP leave); safe to call twice. */
  leave(): void;
}

/** Joins `group` on `socket`; throws `UserError` for a join the system refuses. */
export function joinGroup(socket: Socket, group: string, options: GroupOptions): GroupMembership {
  const { multicastInterface, sourceAddress } = options;
  try {
    if (sourceAddress === undefined) socket.addMembership(group, multicastInterface);
    else socket.addSourceSpecificMembership(sourceAddress, group, multicastInterface);
  } catch (error) {
    throw describeJoinError(error as NodeJS.ErrnoException, group, options);
  }
  let joined = true;
  return {
    description: `joined ${group}${multicastInterface === undefined ? "" : ` on ${multicastInterface}`}${sourceAddress === undefined ? "" : ` from ${sourceAddress} only`}`,
    leave: () => {
      if (!joined) return;
      joined = false;
      try {
        if (sourceAddress === undefined) socket.dropMembership(group, multicastInterface);
        else socket.dropSourceSpecificMembership(sourceAddress, group, multicastInterface);
      } catch {
        // Closing the socket leaves the group too.
      }
    },
  };
}

function describeJoinError(error: NodeJS.ErrnoException, group: string, options: GroupOptions): Error {
  const where = options.multicastInterface === undefined ? "" : ` on ${options.multicastInterface}`;
  switch (error.code) {
    case "EADDRNOTAVAIL":
    case "ENODEV":
      return options.multicastInterface === undefined
        ? new UserError(
            `--host: cannot join ${group}: no interface routes multicast here (${error.code}), name one with --multicast-interface or add a route for 224.0.0.0/4`,
            { cause: error },
          )
        : new UserError(
            `--multicast-interface: cannot join ${group}${where}: ${options.multicastInterface} is not an address of an interface of this machine (${error.code})`,
            { cause: error },
          );
    case "ENOPROTOOPT":
    case "ENOSYS":
    case "EOPNOTSUPP":
      return new UserError(
        `--source-address: this system does not support source-specific joins (${error.code}), drop --source-address to join ${group} from any source`,
        { cause: error },
      );
    default:
      return new UserError(`--host: cannot join ${group}${where} (${error.code ?? error.message})`, { cause: error });
  }
}
