/**
 * The page's files, served from this package (no CDN): the HTML and CSS as
 * written in src/page/, the JavaScript compiled from src/page/*.ts by
 * src/page/tsconfig.json into dist/www/. Read once when the server starts.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// This file is src/http/page-assets.ts or dist/http/page-assets.js: the package is two up.
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PAGE_SOURCE = join(PACKAGE_ROOT, "src/page");
const PAGE_BUILD = join(PACKAGE_ROOT, "dist/www");

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

/** URL path -> file: `/` the page, `/assets/...` its stylesheet and modules. */
export function loadPageAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (urlPath: string, file: string): void => {
    const type = TYPES[file.slice(file.lastIndexOf("."))];
    if (type !== undefined && existsSync(file)) assets.set(urlPath, { contentType: type, body: readFileSync(file) });
  };
  add("/", join(PAGE_SOURCE, "index.html"));
  add("/assets/style.css", join(PAGE_SOURCE, "style.css"));
  for (const folder of ["page", "http"]) {
    const dir = join(PAGE_BUILD, folder);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (name.endsWith(".js")) add(`/assets/${folder}/${name}`, join(dir, name));
  }
  return assets;
}
