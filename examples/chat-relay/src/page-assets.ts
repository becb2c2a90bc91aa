// The chat page's files, read once at startup. Served from explicit routes, so nothing else on
// disk is reachable through the relay.
import { readFileSync } from 'node:fs';

/** One file of the page. */
export interface PageAsset {
  path: string;
  type: string;
  body: string;
}

const PAGE_FILES = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/chat.js', file: 'chat.js', type: 'text/javascript; charset=utf-8' },
  { path: '/chat.css', file: 'chat.css', type: 'text/css; charset=utf-8' },
  { path: '/favicon.svg', file: 'favicon.svg', type: 'image/svg+xml' },
] as const;

/** Reads the page from `public/` (next to `src/` and `dist/`). */
export function loadPageAssets(): PageAsset[] {
  const dir = new URL('../public/', import.meta.url);
  return PAGE_FILES.map(({ path, file, type }) => ({ path, type, body: readFileSync(new URL(file, dir), 'utf8') }));
}
