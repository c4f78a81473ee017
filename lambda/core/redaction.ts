/**
 * Redaction of personal data and secrets in logged bodies (the 'redacted' logging policy).
 *
 * Text rules, applied in order (secrets first: they contain digits and @ that later rules would
 * half-match): secrets-looking strings, card numbers (Luhn-checked, so order numbers and
 * timestamps survive), IBANs (mod-97 checked), US social security numbers (dashed form, valid
 * ranges only), email addresses, phone numbers (international `+…` or grouped national formats;
 * plain digit runs are left alone, they are far more often counts and ids).
 * JSON bodies are walked: every string value is redacted, including nested message contents,
 * content parts and tool-call arguments, and values under credential-named fields are replaced
 * whole. Redaction is best effort by nature; 'metadata' is the policy that logs no content at all.
 */

export type RedactionKind = 'secret' | 'card' | 'iban' | 'ssn' | 'email' | 'phone';

export const redactedMarker = (kind: RedactionKind) => `[REDACTED:${kind}]`;

/** Gateway virtual keys (ARCHITECTURE §6: `sk-gw-` + at least 32 random bytes, base64url). */
const VIRTUAL_KEY = /\bsk-gw-[A-Za-z0-9_-]{16,}/g;

/** Secrets-looking strings: provider keys, gateway virtual keys, cloud keys, bearer tokens, JWTs, PEM private keys. */
const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  VIRTUAL_KEY,
  /\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, // OpenAI, Anthropic
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, // GitHub tokens
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g, // JWTs
  /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*/g, // bearer tokens in text (e.g. pasted curl commands)
  /\b(aws_secret_access_key|secret_access_key|client_secret|password|passwd|api[_-]?key)(["']?\s*[:=]\s*["']?)[^\s"',;]{8,}/gi,
];

/** 13–19 digits, optionally grouped by single spaces or dashes. */
const CARD_CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;

/** IBAN: country code, check digits, 11–30 alphanumerics, optionally in groups of four. */
const IBAN_CANDIDATE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;

/** US SSN written AAA-GG-SSSS; area 000, 666 and 9xx, group 00 and serial 0000 are never issued. */
const SSN = /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g;

const EMAIL = /\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b/g;

/**
 * Phone candidates: `+` and 7–15 digits with optional separators and a bracketed area code, or
 * national numbers written in groups (`(555) 123-4567`, `555.123.4567`, `020 7946 0958`). A group
 * run that goes on (`1234 5678 9012 3456`) is some other number, not a phone.
 */
const PHONE_CANDIDATE =
  /(?<![\w+]|\d[\s.-])(?:\+\d{1,3}(?:[\s.-]?\(?\d{1,5}\)?){2,6}|\(\d{2,5}\)\s?\d{3,4}[\s.-]?\d{3,4}|\d{2,5}[\s.-]\d{3,4}[\s.-]\d{3,4})(?![\w-]|[\s.-]\d)/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function redactCards(text: string): string {
  return text.replace(CARD_CANDIDATE, (m) => {
    const digits = m.replace(/[ -]/g, '');
    return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? redactedMarker('card') : m;
  });
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '');
  if (compact.length < 15 || compact.length > 34) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

function redactIbans(text: string): string {
  return text.replace(IBAN_CANDIDATE, (m) => (ibanValid(m) ? redactedMarker('iban') : m));
}

function redactPhones(text: string): string {
  return text.replace(PHONE_CANDIDATE, (m) => {
    const digits = m.replace(/\D/g, '').length;
    return digits >= 7 && digits <= 15 ? redactedMarker('phone') : m;
  });
}

/** Only secrets-looking strings: for text that is not a body (upstream error messages). */
export function redactSecrets(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, (m, name?: string, sep?: string) =>
      // key=value forms keep the name so the reader sees what was there.
      typeof name === 'string' && typeof sep === 'string' && m.startsWith(name) ? `${name}${sep}${redactedMarker('secret')}` : redactedMarker('secret'),
    );
  }
  return out;
}

/** Redact one piece of text. */
export function redactText(text: string): string {
  let out = redactSecrets(text);
  out = redactCards(out);
  out = redactIbans(out);
  out = out.replace(SSN, redactedMarker('ssn'));
  out = out.replace(EMAIL, redactedMarker('email'));
  return redactPhones(out);
}

/** Field names whose values are credentials whatever they look like. */
const CREDENTIAL_FIELD =
  /^(?:authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|x-goog-api-key|password|passwd|secret|client_secret|access_token|refresh_token|id_token|aws_secret_access_key|private_key)$/i;

/** Nesting kept in a logged body; deeper values become a marker (and so can never overflow the stack). */
export const MAX_LOGGED_DEPTH = 64;

export const DEPTH_MARKER = `[nested deeper than ${MAX_LOGGED_DEPTH} levels]`;

/** Redact every string in a JSON value (objects, arrays, nested message contents); returns a new value. */
export function redactValue(value: unknown, redact: (text: string) => string = redactText, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_LOGGED_DEPTH) return DEPTH_MARKER;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redact, depth + 1));
  // fromEntries defines own properties, so a `__proto__` key the upstream received is logged too.
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      CREDENTIAL_FIELD.test(k) && v !== null && v !== '' ? redactedMarker('secret') : redactValue(v, redact, depth + 1),
    ]),
  );
}
