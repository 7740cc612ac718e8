import { formatBytes } from "@udpcam/appkit";
import { LEGACY_FRAME_BYTES } from "@udpcam/protocol";
import { DEFAULT_RECEIVE_BUFFER_BYTES } from "./config.js";

/**
 * What to say of the receive buffer the kernel granted for `asked` (the --receive-buffer given, or undefined for the
 * default). The default asks for more than many systems allow, and what they allow is plenty: only a size the user
 * gave is worth a warning when it is capped.
 */
export function receiveBufferWarnings(asked: number | undefined, granted: number): string[] {
  const wanted = asked ?? DEFAULT_RECEIVE_BUFFER_BYTES;
  const warnings: string[] = [];
  const sysctl = `sysctl -w net.core.rmem_max=${Math.max(wanted, LEGACY_FRAME_BYTES)}`;
  if (asked !== undefined && granted < asked)
    warnings.push(
      `--receive-buffer: asked for ${formatBytes(asked)}, the system granted ${formatBytes(granted)} (net.core.rmem_max caps it); raise the cap with: ${sysctl}`,
    );
  if (granted < LEGACY_FRAME_BYTES)
    warnings.push(
      `receive buffer ${formatBytes(granted)}: a sender that does not pace (like the original script) sends ${formatBytes(LEGACY_FRAME_BYTES)} at once and the rest is lost; ${granted < wanted ? `raise the system's cap with: ${sysctl}` : `raise --receive-buffer to ${LEGACY_FRAME_BYTES} or more`}`,
    );
  return warnings;
}
