/**
 * Detection and redaction of personal data and secrets: one engine for the audit log's 'redacted'
 * policy (and the secrets scrub every record gets) and for the prompt guard's PII rules.
 *
 * Detectors, by type: secrets-looking strings (provider and gateway keys, cloud keys, bearer tokens,
 * JWTs, PEM private keys, `password=…`-style values), card numbers (Luhn-checked, so order numbers
 * and timestamps survive), IBANs (mod-97 checked), US social security numbers (dashed form, valid
 * ranges only), email addresses, phone numbers (international `+…` or grouped national formats;
 * plain digit runs are left alone, they are far more often counts and ids). Where two detections
 * overlap, the earlier type in that order wins (a key containing digits is a secret, not a card).
 *
 * Every detector runs in time linear in the text, whatever the text: this runs on attacker-chosen
 * strings on the request path. Backtracking regular expressions with unbounded runs (`[…]+@`) go
 * quadratic on strings like `a.a.a.a…` with no `@`, so no pattern here has an unbounded quantifier:
 * candidates are found from a literal trigger (`@`, `sk-`, a digit…) by a regex whose cost per start
 * is a small constant, and runs are scanned by hand, each character a bounded number of times (a
 * scan that a later candidate would repeat is remembered or skipped). JSON bodies are walked: every
 * string value is redacted, and values under credential-named fields are replaced whole.
 * Redaction is best effort by nature; 'metadata' is the policy that logs no content at all.
 */

import { inlineFileOf } from './file-parts';
import { PII_TYPES, type PiiType } from './pii-types';

export { PII_TYPES, type PiiType };

/** A detection: `text.slice(start, end)` is the personal data or secret. */
export interface PiiSpan {
  readonly start: number;
  readonly end: number;
  readonly type: PiiType;
}

export const redactedMarker = (kind: PiiType) => `[REDACTED:${kind}]`;

// ---- character classes (ASCII tables; every non-ASCII character is outside them) ----

function charTable(ranges: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < ranges.length; i++) {
    if (ranges[i + 1] === '~' && i + 2 < ranges.length) {
      for (let c = ranges.charCodeAt(i); c <= ranges.charCodeAt(i + 2); c++) t[c] = 1;
      i += 2;
    } else t[ranges.charCodeAt(i)] = 1;
  }
  return t;
}

const WORD = charTable('A~Za~z0~9_'); // what `\b` means
const B64URL = charTable('A~Za~z0~9_-');
const ALNUM = charTable('A~Za~z0~9');
const SLACK = charTable('A~Za~z0~9-');
const BEARER_TOKEN = charTable('A~Za~z0~9._+/-');
BEARER_TOKEN['~'.charCodeAt(0)] = 1;
const LETTER = charTable('A~Za~z');
const SPACE = charTable(' \t\n\r\v\f');
const EMAIL_LOCAL = charTable('A~Za~z0~9._%+-');
const EMAIL_DOMAIN = charTable('A~Za~z0~9.-');
const UPPER_DIGIT = charTable('A~Z0~9');
/** The value of a `password=…` pair: anything but whitespace, quotes, commas and semicolons. */
const PAIR_VALUE = (() => {
  const t = new Uint8Array(128).fill(1);
  for (const c of ' \t\n\r\v\f"\',;') t[c.charCodeAt(0)] = 0;
  return t;
})();

function inTable(table: Uint8Array, code: number, nonAscii = 0): number {
  return code < 128 ? table[code] : nonAscii;
}
const isWord = (text: string, i: number) => i >= 0 && i < text.length && inTable(WORD, text.charCodeAt(i)) === 1;
const isDigitCode = (c: number) => c >= 48 && c <= 57;
const isDigitAt = (text: string, i: number) => i >= 0 && i < text.length && isDigitCode(text.charCodeAt(i));
/** `\s` as JS regexes mean it, for the characters a separator check sees. */
const isSpaceCode = (c: number) => (c < 128 ? SPACE[c] === 1 : c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0x2000 && c <= 0x200a));

/**
 * The end of the run of `table` characters starting at a position, remembered: later queries that
 * fall inside the last run answer at once, so candidates that share a run scan it once.
 */
class RunScanner {
  private from = -1;
  private to = -1;
  constructor(
    private readonly text: string,
    private readonly table: Uint8Array,
    private readonly nonAscii = 0,
  ) {}
  end(at: number): number {
    if (at >= this.from && at <= this.to) return this.to;
    let i = at;
    const { text, table, nonAscii } = this;
    while (i < text.length && inTable(table, text.charCodeAt(i), nonAscii) === 1) i++;
    this.from = at;
    this.to = i;
    return i;
  }
}

/** Each match of a trigger regex (global, no unbounded quantifier); `skip` moves the next search on. */
function forEachTrigger(text: string, trigger: RegExp, visit: (at: number, match: RegExpExecArray) => number | undefined): void {
  trigger.lastIndex = 0;
  for (let m = trigger.exec(text); m; m = trigger.exec(text)) {
    const next = visit(m.index, m);
    trigger.lastIndex = Math.max(m.index + 1, next ?? 0);
  }
}

// ---- secrets ----

const PEM_BEGIN = /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----/g;
const PEM_END = /-----END [A-Z ]{0,40}PRIVATE KEY-----/g;
const SK = /\bsk-/g; // OpenAI (sk-proj-, sk-svcacct-, sk-admin-), Anthropic (sk-ant-…), gateway virtual keys (sk-gw-)
const AWS_KEY_ID = /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)/g;
const GOOGLE_KEY = /\bAIza/g;
const GITHUB_TOKEN = /\bgh[pousr]_/g;
const SLACK_TOKEN = /\bxox[abprs]-/g;
const JWT = /\beyJ/g;
const BEARER = /\b[Bb]earer/g;
const SECRET_NAME = /\b(?:aws_secret_access_key|secret_access_key|client_secret|password|passwd|api[_-]?key)/gi;

function detectPem(text: string, out: PiiSpan[]): void {
  if (!text.includes('-----BEGIN ')) return;
  const ends: { start: number; end: number }[] = [];
  forEachTrigger(text, PEM_END, (at, m) => {
    ends.push({ start: at, end: at + m[0].length });
    return at + m[0].length;
  });
  let e = 0;
  forEachTrigger(text, PEM_BEGIN, (at, m) => {
    while (e < ends.length && ends[e].start < at + m[0].length) e++; // the first END after this BEGIN
    if (e === ends.length) return text.length;
    out.push({ start: at, end: ends[e].end, type: 'secret' });
    return ends[e].end;
  });
}

function detectTokens(text: string, out: PiiSpan[]): void {
  const b64 = new RunScanner(text, B64URL);
  // sk-…: 20+ key characters, or a gateway key (sk-gw- and 16+).
  forEachTrigger(text, SK, (at) => {
    const end = b64.end(at + 3);
    const run = end - at - 3;
    if (run >= 20 || (run >= 19 && text.startsWith('gw-', at + 3))) out.push({ start: at, end, type: 'secret' });
    return end; // a later sk- inside this run has a shorter run: it cannot match where this one did not
  });
  // AWS access key ids: the prefix and 16 upper-case letters or digits, then a word boundary.
  forEachTrigger(text, AWS_KEY_ID, (at) => {
    const end = at + 20;
    if (end > text.length || isWord(text, end)) return;
    for (let i = at + 4; i < end; i++) if (inTable(UPPER_DIGIT, text.charCodeAt(i)) !== 1) return;
    out.push({ start: at, end, type: 'secret' });
    return end;
  });
  // Google API keys: AIza and exactly 35 key characters, then a word boundary.
  forEachTrigger(text, GOOGLE_KEY, (at) => {
    const end = at + 39;
    if (end > text.length) return;
    for (let i = at + 4; i < end; i++) if (inTable(B64URL, text.charCodeAt(i)) !== 1) return;
    if (isWord(text, end - 1) === isWord(text, end)) return;
    out.push({ start: at, end, type: 'secret' });
    return end;
  });
  const alnum = new RunScanner(text, ALNUM);
  forEachTrigger(text, GITHUB_TOKEN, (at) => {
    const end = alnum.end(at + 4);
    if (end - at - 4 >= 36 && text[end] !== '_') out.push({ start: at, end, type: 'secret' });
    return end;
  });
  const slack = new RunScanner(text, SLACK);
  forEachTrigger(text, SLACK_TOKEN, (at) => {
    const end = slack.end(at + 5);
    if (end - at - 5 >= 10) out.push({ start: at, end, type: 'secret' });
    return end;
  });
  // JWTs: eyJ….eyJ….… (base64url header, payload, signature).
  forEachTrigger(text, JWT, (at) => {
    const headerEnd = b64.end(at);
    // Any eyJ inside this header run ends at the same dot, so it fails or matches within this span.
    if (headerEnd - at < 8 || text[headerEnd] !== '.' || !text.startsWith('eyJ', headerEnd + 1)) return headerEnd;
    const payloadEnd = b64.end(headerEnd + 1);
    if (payloadEnd - headerEnd - 1 < 8 || text[payloadEnd] !== '.') return headerEnd;
    const signatureEnd = b64.end(payloadEnd + 1);
    if (signatureEnd - payloadEnd - 1 < 10) return headerEnd;
    out.push({ start: at, end: signatureEnd, type: 'secret' });
    return signatureEnd;
  });
  // Bearer tokens in text (a pasted curl command): Bearer, whitespace, 16+ token characters, padding.
  const space = new RunScanner(text, SPACE);
  const token = new RunScanner(text, BEARER_TOKEN);
  const padding = new RunScanner(text, charTable('='));
  forEachTrigger(text, BEARER, (at) => {
    const tokenStart = space.end(at + 6);
    if (tokenStart === at + 6) return;
    const tokenEnd = token.end(tokenStart);
    if (tokenEnd - tokenStart < 16) return;
    const end = padding.end(tokenEnd);
    out.push({ start: at, end, type: 'secret' });
    return end;
  });
  // name=value and "name": "value" pairs: the value only, so the reader still sees which field it was.
  const value = new RunScanner(text, PAIR_VALUE, 1);
  forEachTrigger(text, SECRET_NAME, (at, m) => {
    let i = at + m[0].length;
    if (text[i] === '"' || text[i] === "'") i++;
    i = space.end(i);
    if (text[i] !== ':' && text[i] !== '=') return;
    i = space.end(i + 1);
    if (text[i] === '"' || text[i] === "'") i++;
    const end = value.end(i);
    if (end - i < 8) return;
    out.push({ start: i, end, type: 'secret' });
    return end;
  });
}

function detectSecrets(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  detectPem(text, out);
  detectTokens(text, out);
  return nonOverlapping(out);
}

// ---- numbers ----

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

/**
 * Cards: 13–19 digits, optionally grouped by single spaces or dashes, not part of a dashed id,
 * Luhn-valid. A longer run of digit groups is read in stretches of whole space-separated segments,
 * each the longest with at most 19 digits ("4111 1111 1111 1111 123-456" holds a card and then
 * something else), found by a two-pointer walk, so a run of any length costs one pass. Each run is read by a hand loop: a regex call per digit
 * would cost more than the whole scan.
 */
function detectCards(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let segStart = new Int32Array(0);
  let segEnd = new Int32Array(0);
  let cumDigits = new Int32Array(0);
  for (let start = 0; start < n; start++) {
    if (!isDigitCode(text.charCodeAt(start))) continue;
    // The run: digits joined by single spaces or dashes.
    let i = start;
    let digits = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isDigitCode(c)) {
        digits++;
        i++;
      } else if ((c === 32 || c === 45) && i + 1 < n && isDigitCode(text.charCodeAt(i + 1))) i++;
      else break;
    }
    const runEnd = i;
    const runStart = start;
    start = runEnd;
    if (digits < 13) continue;
    const dashBefore = text.charCodeAt(runStart - 1) === 45;
    const dashAfter = text.charCodeAt(runEnd) === 45;
    if (digits <= 19) {
      if (!dashBefore && !dashAfter && luhnValidAt(text, runStart, runEnd)) out.push({ start: runStart, end: runEnd, type: 'card' });
      continue;
    }
    // A longer run: its space-separated segments (start, end, digits before it).
    let segments = 0;
    let count = 0;
    if (segStart.length < (digits >> 1) + 2) {
      segStart = new Int32Array(digits + 2);
      segEnd = new Int32Array(digits + 2);
      cumDigits = new Int32Array(digits + 3);
    }
    segStart[0] = runStart;
    for (let q = runStart; q < runEnd; q++) {
      const c = text.charCodeAt(q);
      if (isDigitCode(c)) count++;
      else if (c === 32) {
        segEnd[segments] = q;
        cumDigits[++segments] = count;
        segStart[segments] = q + 1;
      }
    }
    segEnd[segments] = runEnd;
    cumDigits[++segments] = count;
    // A segment start counts only if no dash sticks to it; the run's end only if no dash follows.
    const lastUsable = dashAfter ? segments - 2 : segments - 1;
    let j = -1;
    for (let k = dashBefore ? 1 : 0; k < segments; k++) {
      if (j < k - 1) j = k - 1;
      while (j + 1 <= lastUsable && cumDigits[j + 2] - cumDigits[k] <= 19) j++;
      if (j < k || cumDigits[j + 1] - cumDigits[k] < 13) continue;
      if (luhnValidAt(text, segStart[k], segEnd[j])) out.push({ start: segStart[k], end: segEnd[j], type: 'card' });
      // The next candidate starts after this one, valid or not (a Luhn failure is some other number,
      // and a shorter stretch of it passing by chance is no card either).
      k = j;
    }
  }
  return out;
}

/** Luhn over the digits of text[from, to) (separators skipped). */
function luhnValidAt(text: string, from: number, to: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = to - 1; i >= from; i--) {
    const c = text.charCodeAt(i);
    if (!isDigitCode(c)) continue;
    let d = c - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** US SSN written AAA-GG-SSSS, a whole run of digits and dashes; area 000, 666 and 9xx, group 00 and serial 0000 are never issued. */
function detectSsns(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  for (let start = 0; start < n; start++) {
    if (!isDigitCode(text.charCodeAt(start))) continue;
    let i = start;
    while (i < n && (isDigitCode(text.charCodeAt(i)) || text.charCodeAt(i) === 45)) i++;
    if (i - start === 11 && text.charCodeAt(start - 1) !== 45 && isSsn(text, start)) out.push({ start, end: i, type: 'ssn' });
    start = i;
  }
  return out;
}

function isSsn(text: string, at: number): boolean {
  for (let k = 0; k < 11; k++) {
    const dash = k === 3 || k === 6;
    if ((text.charCodeAt(at + k) === 45) !== dash) return false;
  }
  const area = text.slice(at, at + 3);
  return area !== '000' && area !== '666' && area[0] !== '9' && text.slice(at + 4, at + 6) !== '00' && text.slice(at + 7, at + 11) !== '0000';
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '');
  if (compact.length < 15 || compact.length > 34) return false;
  return mod97(mod97(0, compact, 4, compact.length), compact, 0, 4) === 1;
}

/** Continue a mod-97 over s[from, to): digits count as themselves, letters as 10–35; spaces are skipped. */
function mod97(remainder: number, s: string, from: number, to: number): number {
  let r = remainder;
  for (let i = from; i < to; i++) {
    const code = s.charCodeAt(i);
    if (code === 32) continue;
    r = code >= 65 ? (r * 100 + code - 55) % 97 : (r * 10 + code - 48) % 97;
  }
  return r;
}

const isUpperCode = (c: number) => c >= 65 && c <= 90;
const isUpperDigitCode = (c: number) => isUpperCode(c) || isDigitCode(c);

/** IBAN length by country (ISO 13616 registry); 0 for a code that issues none. */
const IBAN_LENGTHS = (() => {
  const t = new Uint8Array(26 * 26);
  const registry =
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 ' +
    'GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 ' +
    'MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 ' +
    'UA29 VA22 VG24 XK20 YE30';
  for (const entry of registry.split(' ')) t[(entry.charCodeAt(0) - 65) * 26 + entry.charCodeAt(1) - 65] = Number(entry.slice(2));
  return t;
})();

/** 10^k mod 97, for the up to 68 decimal digits of an IBAN. */
const POW10_MOD97 = (() => {
  const t = new Int32Array(70);
  t[0] = 1;
  for (let k = 1; k < t.length; k++) t[k] = (t[k - 1] * 10) % 97;
  return t;
})();

/**
 * IBANs: country code, check digits, then upper-case letters and digits, optionally in groups of
 * four separated by single spaces, 15–34 characters in all, ending at a word boundary; mod-97 valid.
 * A region (upper-case letters and digits joined by single spaces) is read once into prefix
 * remainders, so each start checks its few possible ends (group boundaries) in constant time each,
 * however many starts a region holds (`DE89 DE89 DE89 …`).
 */
function detectIbans(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let pos = new Int32Array(0); // text position of each region character
  let prefix = new Int32Array(0); // remainder of the region's first k characters read as a number
  let decimals = new Int32Array(0); // how many decimal digits those k characters make (letters make two)
  let spaceBefore = new Uint8Array(0);
  let nextSpace = new Int32Array(0);
  for (let i = 0; i < n; i++) {
    if (!isUpperDigitCode(text.charCodeAt(i))) continue;
    // Read the region.
    let m = 0;
    let j = i;
    const regionStart = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (isUpperDigitCode(c)) m++;
      else if (!(c === 32 && m > 0 && isUpperDigitCode(text.charCodeAt(j + 1)))) break;
      j++;
    }
    i = j; // the next region starts after this one
    if (m < 15) continue;
    if (pos.length < m + 1) {
      const size = Math.max(m + 1, pos.length * 2);
      pos = new Int32Array(size);
      prefix = new Int32Array(size);
      decimals = new Int32Array(size);
      spaceBefore = new Uint8Array(size);
      nextSpace = new Int32Array(size);
    }
    let k = 0;
    let starts = 0;
    for (let q = regionStart; q < j; q++) {
      const c = text.charCodeAt(q);
      if (c === 32) {
        spaceBefore[k] = 1;
        continue;
      }
      if (spaceBefore[k] !== 1) spaceBefore[k] = 0;
      pos[k] = q;
      // A possible start: two capitals then two digits at the region's start or after a space.
      if (
        (k === 0 || spaceBefore[k] === 1) &&
        isUpperCode(c) &&
        isUpperCode(text.charCodeAt(q + 1)) &&
        isDigitCode(text.charCodeAt(q + 2)) &&
        isDigitCode(text.charCodeAt(q + 3))
      )
        starts++;
      k++;
      spaceBefore[k] = 0;
    }
    if (starts === 0) continue;
    for (let q = 0; q < m; q++) {
      const c = text.charCodeAt(pos[q]);
      const letter = c >= 65;
      prefix[q + 1] = letter ? (prefix[q] * 100 + c - 55) % 97 : (prefix[q] * 10 + c - 48) % 97;
      decimals[q + 1] = decimals[q] + (letter ? 2 : 1);
    }
    nextSpace[m] = m;
    for (let q = m - 1; q >= 0; q--) nextSpace[q] = q > 0 && spaceBefore[q] === 1 ? q : nextSpace[q + 1];
    const value = (from: number, to: number) => (((prefix[to] - ((prefix[from] * POW10_MOD97[decimals[to] - decimals[from]]) % 97)) % 97) + 97) % 97;
    const valid = (from: number, to: number) => (value(from + 4, to) * POW10_MOD97[decimals[from + 4] - decimals[from]] + value(from, from + 4)) % 97 === 1;
    for (let s = 0; s + 15 <= m; s++) {
      const startOk =
        (s === 0 ? !isWord(text, pos[0] - 1) : spaceBefore[s] === 1) &&
        isUpperCode(text.charCodeAt(pos[s])) &&
        isUpperCode(text.charCodeAt(pos[s + 1])) &&
        isDigitCode(text.charCodeAt(pos[s + 2])) &&
        isDigitCode(text.charCodeAt(pos[s + 3])) &&
        pos[s + 3] - pos[s] === 3;
      if (!startOk) continue;
      // The country fixes the length: one possible end, where every space before it falls between groups of four.
      const length = IBAN_LENGTHS[(text.charCodeAt(pos[s]) - 65) * 26 + text.charCodeAt(pos[s + 1]) - 65];
      const e = s + length;
      if (length === 0 || e > m) continue;
      let q = nextSpace[s + 1];
      while (q < e && (q - s) % 4 === 0) q = nextSpace[q + 1];
      if (q < e || (e === m ? isWord(text, pos[m - 1] + 1) : spaceBefore[e] !== 1) || !valid(s, e)) continue;
      const best = e;
      out.push({ start: pos[s], end: pos[best - 1] + 1, type: 'iban' });
      s = best - 1;
    }
  }
  return out;
}

/**
 * Phones: `+` and 7–15 digits in up to seven groups (brackets and single space, dot or dash
 * separators allowed), or national numbers written in groups (`(555) 123-4567`, `555.123.4567`,
 * `020 7946 0958`). The candidate is a whole run of digit groups: a run that goes on
 * (`1234 5678 9012 3456`, a version, an IP) or touches a word is some other number.
 */
function detectPhones(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  for (let start = 0; start < n; start++) {
    const first = text.charCodeAt(start);
    if (!isDigitCode(first) && first !== 43 && first !== 40) continue;
    const before = text.charCodeAt(start - 1);
    if (isWord(text, start - 1) || before === 43 || (isPhoneSeparator(before) && isDigitAt(text, start - 2))) continue;
    const end = readPhone(text, start);
    if (end > 0) out.push({ start, end, type: 'phone' });
    // Whatever it was, the rest of this run of digit groups starts no phone (its starts follow a digit).
    start = Math.max(start, skipRun(text, Math.abs(end)) - 1);
  }
  return out;
}

const isPhoneSeparator = (c: number) => c === 46 || c === 45 || isSpaceCode(c);

/** Read the run of digit groups at `start`: its end if it is a phone, else minus where it stopped. */
function readPhone(text: string, start: number): number {
  const n = text.length;
  let i = start;
  const plus = text.charCodeAt(i) === 43;
  if (plus) i++;
  let groups = 0;
  let digits = 0;
  // The first three groups' sizes and shapes, enough for every national form.
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let bracketed0 = false;
  let bracketedLater = false;
  let spaceOrNothingAfter0 = true;
  while (i < n) {
    let j = i;
    let sep = 0;
    if (groups > 0 && isPhoneSeparator(text.charCodeAt(j))) sep = text.charCodeAt(j++);
    const bracketed = text.charCodeAt(j) === 40;
    if (bracketed) j++;
    const from = j;
    while (j < n && isDigitCode(text.charCodeAt(j))) j++;
    if (j === from || (bracketed && text.charCodeAt(j) !== 41)) break;
    if (bracketed) j++;
    const size = j - from;
    if (groups === 0) {
      d0 = size;
      bracketed0 = bracketed;
    } else {
      if (bracketed) bracketedLater = true;
      if (groups === 1) {
        d1 = size;
        spaceOrNothingAfter0 = sep === 0 || isSpaceCode(sep);
      } else if (groups === 2) d2 = size;
    }
    groups++;
    digits += size;
    i = j;
    if (groups > 7 || digits > 15) return -i; // longer than any phone
  }
  if (groups === 0 || isWord(text, i) || text.charCodeAt(i) === 45 || digits < 7) return -i;
  const between = (v: number, lo: number, hi: number) => v >= lo && v <= hi;
  let shaped: boolean;
  if (plus) shaped = !bracketed0;
  else if (bracketed0)
    shaped =
      between(d0, 2, 5) &&
      spaceOrNothingAfter0 &&
      !bracketedLater &&
      ((groups === 2 && between(d1, 6, 8)) || (groups === 3 && between(d1, 3, 4) && between(d2, 3, 4)));
  else shaped = groups === 3 && !bracketedLater && between(d0, 2, 5) && between(d1, 3, 4) && between(d2, 3, 4);
  return shaped ? i : -i;
}

/** Past any further digits, brackets and single separators from `i`. */
function skipRun(text: string, i: number): number {
  let j = i;
  for (;;) {
    const c = text.charCodeAt(j);
    if (isDigitCode(c) || c === 40 || c === 41) j++;
    else if (isPhoneSeparator(c) && (isDigitAt(text, j + 1) || text.charCodeAt(j + 1) === 40)) j++;
    else return j;
  }
}

// ---- email ----

/** Email addresses: local part, @, dot-separated labels, an alphabetic top-level domain at a word boundary. */
function detectEmails(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  let claimed = 0; // end of the last match: a local part never reaches back into it
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let localStart = at;
    while (localStart > claimed && inTable(EMAIL_LOCAL, text.charCodeAt(localStart - 1)) === 1) localStart--;
    // The match begins at the first word boundary in the local part (as `\b` would place it).
    let start = localStart;
    while (start < at && isWord(text, start - 1) === isWord(text, start)) start++;
    if (start === at) continue;
    // Domain: labels of letters, digits and hyphens, each followed by a dot, then the TLD.
    let end = -1;
    let i = at + 1;
    for (;;) {
      const labelStart = i;
      while (i < text.length && inTable(EMAIL_DOMAIN, text.charCodeAt(i)) === 1 && text[i] !== '.') i++;
      if (i === labelStart) break;
      if (labelStart > at + 1) {
        // A TLD candidate: this label's leading letters, 2 or more, then a word boundary.
        let t = labelStart;
        while (t < i && inTable(LETTER, text.charCodeAt(t)) === 1) t++;
        if (t - labelStart >= 2 && !isWord(text, t)) end = t;
      }
      if (text[i] !== '.') break;
      i++;
    }
    if (end === -1) continue;
    out.push({ start, end, type: 'email' });
    claimed = end;
    at = end - 1;
  }
  return out;
}

// ---- the engine ----

const DETECTORS: Record<PiiType, (text: string) => PiiSpan[]> = {
  secret: detectSecrets,
  card: detectCards,
  iban: detectIbans,
  ssn: detectSsns,
  email: detectEmails,
  phone: detectPhones,
};

/** Sort by start and drop any span that overlaps an earlier-starting (or, at a tie, earlier-listed) one. */
function nonOverlapping(spans: PiiSpan[]): PiiSpan[] {
  const sorted = spans.map((s, i) => ({ s, i })).sort((a, b) => a.s.start - b.s.start || a.i - b.i);
  const out: PiiSpan[] = [];
  let end = 0;
  for (const { s } of sorted) {
    if (s.start < end) continue;
    out.push(s);
    end = s.end;
  }
  return out;
}

/** Merge two sorted non-overlapping span lists; `kept` wins every overlap. */
function mergeKeeping(kept: PiiSpan[], added: PiiSpan[]): PiiSpan[] {
  const out: PiiSpan[] = [];
  let k = 0;
  for (const a of added) {
    while (k < kept.length && kept[k].end <= a.start) out.push(kept[k++]);
    // Any kept span that starts before a's end overlaps it (a's start is before the kept span's end).
    if (k < kept.length && kept[k].start < a.end) continue;
    if (out.length && out[out.length - 1].end > a.start) continue;
    out.push(a);
  }
  while (k < kept.length) out.push(kept[k++]);
  return out;
}

/**
 * The personal data and secrets in `text`, sorted and non-overlapping, of the given types (all by
 * default). Linear in the text's length whatever it contains.
 */
export function detectPii(text: string, types: Iterable<PiiType> = PII_TYPES): PiiSpan[] {
  const wanted = new Set(types);
  let spans: PiiSpan[] = [];
  for (const type of PII_TYPES) if (wanted.has(type)) spans = mergeKeeping(spans, DETECTORS[type](text));
  return spans;
}

/** `text` with each span replaced by its marker. */
export function replaceSpans(text: string, spans: readonly PiiSpan[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let from = 0;
  for (const s of spans) {
    out += text.slice(from, s.start) + redactedMarker(s.type);
    from = s.end;
  }
  return out + text.slice(from);
}

/** Redact the given types (all by default) in one piece of text. */
export function redactText(text: string, types?: Iterable<PiiType>): string {
  return replaceSpans(text, detectPii(text, types));
}

/** Only secrets-looking strings: for text that is not a body (upstream error messages), and for the 'full' policy. */
export function redactSecrets(text: string): string {
  return replaceSpans(text, detectSecrets(text));
}

/** Field names whose values are credentials whatever they look like. */
const CREDENTIAL_FIELD =
  /^(?:authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|x-goog-api-key|password|passwd|secret|client_secret|access_token|refresh_token|id_token|aws_secret_access_key|private_key)$/i;

/**
 * The most characters one record's redaction examines (request and response together): a bound on
 * the work per record whatever the bodies. Past it, strings are replaced by a marker rather than
 * logged unexamined. Scanning this much takes tens of milliseconds.
 */
export const MAX_REDACTED_CHARS = 4 * 1024 * 1024;

export const overBudgetMarker = (chars: number) => `[REDACTED:not scanned, ${chars} chars over the redaction budget]`;

/** How much text one record's redaction may still examine; shared by the calls that build one record. */
export class RedactionBudget {
  constructor(public remaining = MAX_REDACTED_CHARS) {}
  /** Redact `text` if the budget allows, else the over-budget marker. */
  apply(text: string, redact: (text: string) => string): string {
    if (text.length > this.remaining) {
      this.remaining = 0;
      return overBudgetMarker(text.length);
    }
    this.remaining -= text.length;
    return redact(text);
  }
}

/** Nesting kept in a logged body; deeper values become a marker (and so can never overflow the stack). */
export const MAX_LOGGED_DEPTH = 64;

export const DEPTH_MARKER = `[nested deeper than ${MAX_LOGGED_DEPTH} levels]`;

/**
 * Redact every string in a JSON value (objects, arrays, nested message contents); returns a new value.
 * A base64 data URL (an image or a file sent with a prompt) is kept as it is, outside the budget:
 * its payload holds only base64 characters, in which no pattern finds personal data or a secret
 * (they are encoded), so scanning it would only spend the budget, leaving the rest of the record
 * (the answer's text) unexamined markers, and mangle bytes a pattern happened to match.
 */
export function redactValue(value: unknown, redact: (text: string) => string = redactText, budget = new RedactionBudget(), depth = 0): unknown {
  if (typeof value === 'string') return inlineFileOf(value) ? value : budget.apply(value, redact);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_LOGGED_DEPTH) return DEPTH_MARKER;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redact, budget, depth + 1));
  // fromEntries defines own properties, so a `__proto__` key the upstream received is logged too.
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      CREDENTIAL_FIELD.test(k) && v !== null && v !== '' ? redactedMarker('secret') : redactValue(v, redact, budget, depth + 1),
    ]),
  );
}
