import type { Logger } from "@udpcam/appkit";
import { VideoError, transcodeJpegAsync, type JpegFrame } from "@udpcam/video";

/**
 * A source's own JPEG re-encoded at --quality (--jpeg-passthrough off); undefined for one that does not decode
 * (a camera's damaged frame), which is skipped, and said once.
 */
export function jpegReencoder(quality: number, logger: Logger): (input: JpegFrame) => Promise<Uint8Array | undefined> {
  let warned = false;
  return async (input) => {
    try {
      return await transcodeJpegAsync(input.jpeg, quality);
    } catch (error) {
      if (!VideoError.isInstance(error) || error.code !== "JPEG_INVALID") throw error;
      if (!warned) logger.warn(`skipping a source frame that does not decode: ${error.message} (said once)`);
      warned = true;
      return undefined;
    }
  };
}
