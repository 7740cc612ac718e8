import { UserError } from "@udpcam/appkit";
import { VideoError, type VideoErrorCode } from "@udpcam/video";

/** The video package's errors about options become one clear line naming the option. */
export async function asUserError<T>(
  action: () => Promise<T> | T,
  option: (code: VideoErrorCode) => string,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (VideoError.isInstance(error) && error.code !== "WRITE_FAILED")
      throw new UserError(`${option(error.code)}: ${error.message}`, { cause: error });
    throw error;
  }
}
