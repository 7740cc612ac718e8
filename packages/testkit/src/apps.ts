// udpcam's own sender and receiver as child processes, as the end-to-end tests and the
// benchmark run them: JSON logs (so that tests can read them), no window.
import { spawnChild, type Child, type ChildOptions } from "./child.js";
import { RECEIVER_MAIN, SENDER_MAIN } from "./paths.js";

/** The receiver's log line once its socket is bound: from then on it receives. */
export const RECEIVER_LISTENING = /"msg":"listening on /;

/** Node's arguments that run the receiver: `nodeFlags` (e.g. --cpu-prof), the script, then `args`. */
export function receiverArgv(args: readonly string[], nodeFlags: readonly string[] = []): string[] {
  return [...nodeFlags, RECEIVER_MAIN, "--log-format", "json", "--display", "off", ...args];
}

/** Node's arguments that run the sender: `nodeFlags`, the script, then `args`. */
export function senderArgv(args: readonly string[], nodeFlags: readonly string[] = []): string[] {
  return [...nodeFlags, SENDER_MAIN, "--log-format", "json", ...args];
}

/** Starts the receiver; resolves once it listens (a receiver that does not is killed). */
export function startReceiver(args: readonly string[], options: ChildOptions = {}): Promise<Child> {
  return untilListening(spawnChild(process.execPath, receiverArgv(args), { name: "receiver", ...options }));
}

/** Resolves with the receiver once it listens; kills it if it exits or times out first. */
export async function untilListening(receiver: Child): Promise<Child> {
  try {
    await receiver.waitFor(RECEIVER_LISTENING);
  } catch (error) {
    receiver.signal("SIGKILL");
    throw error;
  }
  return receiver;
}

export function startSender(args: readonly string[], options: ChildOptions = {}): Child {
  return spawnChild(process.execPath, senderArgv(args), { name: "sender", ...options });
}
