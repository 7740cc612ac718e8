/** Network sources named by URL: which strings are one, and how to show one without its credentials. */

const NETWORK_SCHEMES = ["rtsp:", "rtsps:", "http:", "https:"] as const;

/** `rtsp://`, `rtsps://`, `http://` or `https://` (case-insensitive): a network camera. */
export function isNetworkUrl(text: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(text.trim())?.[1]?.toLowerCase();
  return scheme !== undefined && (NETWORK_SCHEMES as readonly string[]).includes(scheme);
}

/**
 * The URL with any user name and password replaced by `***` (`rtsp://***@cam.local/stream`),
 * for logs and error messages. Text that does not parse as a URL loses everything between
 * `//` and the last `@` before the path, so a malformed URL does not leak either.
 */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username === "" && url.password === "") return text;
    url.username = "***";
    url.password = "";
    return url.toString();
  } catch {
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, "$1***@");
  }
}
