/**
 * Serves the usage page (`/ui` and its files) from the files the build put beside the runtime.
 * Only the page's own file names are served (no path from the request reaches the file system),
 * with a content security policy that lets the page load and call nothing but this gateway.
 */
import { BufferedResponse } from '../buffered-response';

/** Reads one of the page's built files (local: dist/ui; Lambda: the asset's ui/ folder). */
export interface UiAssets {
  read(name: string): Promise<Buffer | undefined>;
}

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'uplot.css': 'text/css; charset=utf-8',
};

/** Nothing from another origin: scripts, styles, images, fonts and API calls come from the gateway only. */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': UI_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** True for the paths the page owns. */
export const isUiPath = (path: string) => path === '/ui' || path.startsWith('/ui/');

/** The answer for a GET/HEAD of `path` under /ui: the file, or a 404 page. */
export async function serveUi(path: string, assets: UiAssets): Promise<Response> {
  const name = path === '/ui' || path === '/ui/' ? 'index.html' : path.slice('/ui/'.length);
  const type = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  const body = type ? await assets.read(name) : undefined;
  if (!type || !body) {
    return new BufferedResponse('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } });
  }
  return new BufferedResponse(body, {
    status: 200,
    headers: {
      'content-type': type,
      // The page is small and changes with each deploy: revalidate rather than serve a stale script.
      'cache-control': 'no-cache',
      ...SECURITY_HEADERS,
    },
  });
}
