/**
 * Every name a recording gives its files, in one place. Each adds a suffix before
 * the extension of the path the user gave:
 *
 * | what | suffix | example |
 * | --- | --- | --- |
 * | one file per stream (`streamRecordingPath`) | `-` + the stream id, 8 hex digits | `out-0000abcd.avi` |
 * | that stream's file opened again (`streamRecordingPath` with a part) | `-r1`, `-r2`, ... | `out-0000abcd-r1.avi` |
 * | segments asked for (`segmentSeconds`, `segmentPath`) | `-000`, `-001`, ... | `out-000.avi` |
 * | an MJPEG AVI file full at 1 GiB (`rolloverPath`) | none, then `-001`, `-002`, ... | `out.avi`, `out-001.avi` |
 *
 * They compose in that order: `out-0000abcd-002.avi` is segment 2 of one stream. A stream's
 * file is opened again when the stream gave up its place (silent while others waited, see the
 * receiver's `--max-streams`) and then came back: its first file is finished by then.
 * Segments are numbered from `-000` because the split is asked for in advance; a
 * rollover keeps the first file where it was asked to be.
 */
import { extname } from "node:path";

function withSuffix(path: string, suffix: string): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${suffix}${ext}`;
}

/** Three digits, more past 999. */
function counter(index: number): string {
  return String(index).padStart(3, "0");
}

/** `out.avi`, 3 -> `out-003.avi`. */
export function segmentPath(path: string, index: number): string {
  return withSuffix(path, counter(index));
}

/** `out.avi` for the first file (0), then `out-001.avi`, `out-002.avi`, ... */
export function rolloverPath(path: string, index: number): string {
  return index === 0 ? path : withSuffix(path, counter(index));
}

/**
 * The file of one stream when each stream is recorded apart: `out.avi`, 0xabcd -> `out-0000abcd.avi`;
 * its `part` 1, 2, ... (opened again after the first was finished) -> `out-0000abcd-r1.avi`, ...
 */
export function streamRecordingPath(path: string, streamId: number, part = 0): string {
  const stream = withSuffix(path, (streamId >>> 0).toString(16).padStart(8, "0"));
  return part === 0 ? stream : withSuffix(stream, `r${part}`);
}
