/**
 * The path of a request's URL without parsing it again. A Request's `url` is already a WHATWG
 * serialisation (scheme://authority/path?query#fragment, with a path of at least '/'), so the path
 * runs from the first '/' after the authority to the query or fragment. The adapters parse each URL
 * once when they build the request; the dispatcher and the app each parsed it again per request.
 */
export function pathOf(url: string): string {
  const authority = url.indexOf('//');
  const start = url.indexOf('/', authority < 0 ? 0 : authority + 2);
  if (start < 0) return '/';
  let end = url.indexOf('?', start);
  if (end < 0) end = url.length;
  const hash = url.indexOf('#', start);
  return url.slice(start, hash >= 0 && hash < end ? hash : end);
}
