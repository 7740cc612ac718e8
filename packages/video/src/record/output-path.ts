/** The checks every recording makes on its path before any frame can be lost. */
import { constants as fsConstants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { VideoError } from "../errors.js";

/**
 * Throws `OUTPUT_NOT_WRITABLE` unless `path`'s folder exists and is writable, `path` is not a
 * folder, and a file already there is writable.
 */
export async function checkOutputPath(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error("not a folder");
    await access(dir, fsConstants.W_OK);
  } catch (cause) {
    throw new VideoError(
      "OUTPUT_NOT_WRITABLE",
      `cannot record to ${path}: folder ${dir} does not exist or is not writable`,
      { cause },
    );
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true)
    throw new VideoError("OUTPUT_NOT_WRITABLE", `cannot record to ${path}: it is a folder`);
  if (existing !== undefined) {
    await access(path, fsConstants.W_OK).catch((cause: unknown) => {
      throw new VideoError("OUTPUT_NOT_WRITABLE", `cannot record to ${path}: the existing file is not writable`, {
        cause,
      });
    });
  }
}
