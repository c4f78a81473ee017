/**
 * Response header values the gateway fills from data it does not control (a served model id from
 * config, a provider name). Fetch's `Headers` and Node's http both throw on characters a header
 * cannot carry; a throw while writing headers would skip the settle and the log record, so such
 * values are escaped instead.
 */

/**
 * Fetch rejects NUL, CR, LF and anything above U+00FF; Node's http every control character but
 * tab; and bytes above 0x7F are read differently by different clients (Latin-1 or UTF-8). So
 * only printable ASCII goes out as it is.
 */
const NOT_HEADER_SAFE = /[^\x20-\x7e]/g;

/** `value` with every character a header cannot carry written as `\uXXXX`; linear, never throws. */
export function headerSafe(value: string): string {
  return value.replace(NOT_HEADER_SAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Every value of `headers` made header-safe. */
export function headerSafeRecord(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = headerSafe(value);
  return out;
}
