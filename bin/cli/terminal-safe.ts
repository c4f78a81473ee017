/**
 * Everything the CLI prints for a human goes through here, because much of it is chosen by whoever
 * holds a key (model names, key and team names, user agents, error messages the server relays). A
 * control character in such a string (ESC starting an ANSI sequence, the 8-bit CSI, a carriage
 * return, a bidirectional override) would otherwise act on the operator's terminal: rewrite the
 * screen, hide lines, set the window title. Each is shown as a visible escape (`\x1b`, `\u202e`).
 */

/** C0 controls, DEL and C1 controls, and Unicode's invisible direction and line controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, less the newline the CLI itself writes between lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string) => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** A value for one cell or field of a line: every control character shown as an escape, newlines included. */
export function printable(value: unknown): string {
  return String(value).replace(CONTROLS, visible);
}

/** Text the CLI prints: its own newlines kept, every other control character shown as an escape. */
export function terminalText(text: string): string {
  return text.replace(CONTROLS_BUT_NEWLINE, visible);
}

/**
 * JSON for `--json`: JSON.stringify already escapes C0 controls, but leaves DEL, C1 controls and
 * the Unicode direction controls raw; these become `\u` escapes, the same JSON to a parser.
 */
export function terminalJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(CONTROLS_JSON_LEAVES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What JSON.stringify leaves raw inside strings: DEL, C1 controls, the Unicode direction and line controls. */
const CONTROLS_JSON_LEAVES = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Print a line for a human (stdout). */
export function say(text: string): void {
  console.log(terminalText(text));
}

/** Print an error line for a human (stderr). */
export function sayError(text: string): void {
  console.error(terminalText(text));
}
