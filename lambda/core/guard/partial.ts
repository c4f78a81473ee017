/**
 * Where a match might still be in progress at the end of a stream's held text, so the output
 * window releases everything before it at once instead of always holding `windowChars`.
 *
 * For a pattern R, `prefixPattern(R)` is a pattern for the prefixes of R's matches (the empty
 * string included), written in the same RE2 syntax: a sequence `a b c` becomes `(?:a?|a(?:b?|b c?))`
 * in spirit, `x*` becomes `x*` then a prefix of one more `x`, `x{n,m}` becomes `x{0,m-1}` then a
 * prefix of `x`. Assertions (`^ $ \b \B \A \z`) are dropped, which only widens what counts as in
 * progress (never the reverse). The earliest position from which the rest of the held text matches
 * it whole is where some match of R could begin and run on into text not yet received: everything
 * before it is safe to release. The result is an RE2 pattern too, run by RE2's DFA; a position
 * that cannot begin a match fails within a few characters, so finding the earliest one costs about
 * the held text's length in the common case, and at most its square (held text is at most a
 * window plus a quarter) when long candidates keep failing late.
 *
 * Atoms (literals, escapes, classes, `.`) are copied as written, so their meaning (and the flags
 * around them) is RE2's own; the parser only needs their extent. A pattern whose prefix form grows
 * too large (deeply nested repetition) gets none: its side then holds the whole window as before.
 */
import type { PiiType } from '../redaction';

type Node =
  | { readonly k: 'atom'; readonly src: string }
  | { readonly k: 'assert' }
  | { readonly k: 'flags'; readonly src: string }
  | { readonly k: 'group'; readonly open: string; readonly body: Node[][] }
  | { readonly k: 'rep'; readonly node: Node; readonly min: number; readonly max: number };

class Parser {
  private i = 0;
  constructor(private readonly p: string) {}

  parse(): Node[][] {
    const alt = this.alternation();
    if (this.i !== this.p.length) throw new Error(`unexpected ')' at ${this.i}`);
    // A flag setter reaches to its group's end, across '|': the prefix form keeps that only for one
    // at the very start (later ones would end up inside groups of their own).
    if (this.setters > (alt[0][0]?.k === 'flags' ? 1 : 0)) throw new Error('a flag setter after the start');
    return alt;
  }

  private setters = 0;

  private alternation(): Node[][] {
    const seqs: Node[][] = [[]];
    while (this.i < this.p.length) {
      const c = this.p[this.i];
      if (c === ')') break;
      if (c === '|') {
        this.i++;
        seqs.push([]);
        continue;
      }
      const seq = seqs[seqs.length - 1];
      const q = this.quantifier();
      if (q) {
        const last = seq.pop();
        if (!last) throw new Error('a repetition with nothing to repeat');
        seq.push({ k: 'rep', node: last, ...q });
      } else seq.push(this.atom());
    }
    return seqs;
  }

  /** `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (each maybe lazy), or null; a `{` that starts none is a literal. */
  private quantifier(): { min: number; max: number } | null {
    const p = this.p;
    const c = p[this.i];
    let q: { min: number; max: number } | null = null;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    if (q) this.i++;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(this.i, this.i + 16));
      if (!m) return null;
      const min = Number(m[1]);
      q = { min, max: m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]) };
      this.i += m[0].length;
    } else return null;
    if (p[this.i] === '?') this.i++; // lazy: the same strings
    return q;
  }

  private atom(): Node {
    const p = this.p;
    const c = p[this.i];
    if (c === '^' || c === '$') {
      this.i++;
      return { k: 'assert' };
    }
    if (c === '(') return this.group();
    if (c === '[') return { k: 'atom', src: this.charClass() };
    if (c === '\\') return this.escape();
    const cp = p.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return { k: 'atom', src: ch };
  }

  private group(): Node {
    const p = this.p;
    this.i++; // (
    let open = '(?:';
    if (p[this.i] === '?') {
      const named = /^\?P?<[^>]*>/.exec(p.slice(this.i, this.i + 200));
      if (named) this.i += named[0].length;
      else {
        const flags = /^\?([imsU-]*)([:)])/.exec(p.slice(this.i, this.i + 12));
        if (!flags) throw new Error(`unknown group syntax at ${this.i}`);
        this.i += flags[0].length;
        if (flags[2] === ')') {
          this.setters++;
          return { k: 'flags', src: `(?${flags[1]})` };
        }
        open = `(?${flags[1]}:`;
      }
    }
    const body = this.alternation();
    if (p[this.i] !== ')') throw new Error('missing )');
    this.i++;
    return { k: 'group', open, body };
  }

  private charClass(): string {
    const p = this.p;
    const start = this.i;
    this.i++; // [
    if (p[this.i] === '^') this.i++;
    if (p[this.i] === ']') this.i++; // a leading ] is literal
    while (this.i < p.length && p[this.i] !== ']') {
      if (p[this.i] === '\\') this.escape();
      else if (p.startsWith('[:', this.i)) {
        const end = p.indexOf(':]', this.i + 2);
        this.i = end < 0 ? this.i + 1 : end + 2;
      } else this.i += String.fromCodePoint(p.codePointAt(this.i)!).length;
    }
    if (p[this.i] !== ']') throw new Error('missing ]');
    this.i++;
    return p.slice(start, this.i);
  }

  private escape(): Node {
    const p = this.p;
    const start = this.i;
    this.i++; // \
    const c = p[this.i];
    if (c === undefined) throw new Error('trailing \\');
    if ('AbBz'.includes(c)) {
      this.i++;
      return { k: 'assert' };
    }
    if (c === 'Q') {
      // \Q…\E: each character literal, written as a code point escape.
      const end = p.indexOf('\\E', this.i + 1);
      const text = p.slice(this.i + 1, end < 0 ? p.length : end);
      this.i = end < 0 ? p.length : end + 2;
      const chars = [...text].map((ch): Node => ({ k: 'atom', src: `\\x{${ch.codePointAt(0)!.toString(16)}}` }));
      return { k: 'group', open: '(?:', body: [chars] };
    }
    if ((c === 'p' || c === 'P' || c === 'x') && p[this.i + 1] === '{') {
      const end = p.indexOf('}', this.i);
      if (end < 0) throw new Error('missing }');
      this.i = end + 1;
    } else if (c === 'p' || c === 'P') this.i += 2;
    else if (c === 'x') this.i += 3;
    else if (c >= '0' && c <= '7') {
      this.i++;
      for (let k = 0; k < 2 && p[this.i] >= '0' && p[this.i] <= '7'; k++) this.i++;
    } else this.i += String.fromCodePoint(p.codePointAt(this.i)!).length;
    return { k: 'atom', src: p.slice(start, this.i) };
  }
}

/** The node's own language, assertions dropped, captures made non-capturing (the copies must not repeat a name). */
function full(n: Node): string {
  switch (n.k) {
    case 'atom':
      return n.src;
    case 'assert':
      return '';
    case 'flags':
      return n.src;
    case 'group':
      return `${n.open}${n.body.map((seq) => seq.map(full).join('')).join('|')})`;
    case 'rep':
      return `(?:${full(n.node)}){${n.min},${n.max === Infinity ? '' : n.max}}`;
  }
}

/** The prefixes of the node's strings (the empty one included). */
function prefix(n: Node): string {
  switch (n.k) {
    case 'atom':
      return `(?:${n.src})?`;
    case 'assert':
      return '';
    case 'flags':
      return n.src;
    case 'group':
      return `${n.open}${n.body.map((seq) => prefixOfSeq(seq, 0)).join('|')})`;
    case 'rep': {
      if (n.max === 0) return '';
      const times = n.max === Infinity ? '*' : `{0,${n.max - 1}}`;
      return `(?:(?:${full(n.node)})${times}${prefix(n.node)})`;
    }
  }
}

/** Prefixes of seq[i…]: a prefix of its first node, or that node whole and a prefix of the rest. */
function prefixOfSeq(seq: readonly Node[], i: number): string {
  if (i === seq.length) return '';
  const n = seq[i];
  // A flag setter applies to the rest of its group: kept in front of the rest.
  if (n.k === 'flags') return n.src + prefixOfSeq(seq, i + 1);
  if (n.k === 'assert') return prefixOfSeq(seq, i + 1);
  const rest = prefixOfSeq(seq, i + 1);
  return rest ? `(?:${prefix(n)}|${full(n)}${rest})` : prefix(n);
}

/** Beyond this, a prefix form is not worth its cost: the side holds its whole window instead. */
const MAX_PREFIX_LENGTH = 20_000;

/**
 * The prefix form of an RE2 pattern (already validated by RE2), or undefined when it would be too
 * large or the pattern uses syntax this reader does not know.
 */
export function prefixPattern(pattern: string): string | undefined {
  try {
    const alt = new Parser(pattern).parse();
    const out = alt.map((seq) => prefixOfSeq(seq, 0)).join('|');
    return out.length <= MAX_PREFIX_LENGTH ? out : undefined;
  } catch {
    return undefined;
  }
}

/** RE2's `\s` plus the Unicode spaces the PII detectors also treat as separators. */
const SPACE = '\\t\\n\\v\\f\\r \\x{a0}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{feff}';

/**
 * The shape of each PII detector's matches (redaction.ts), wider than the detector: every match a
 * detector can report is a string of its shape, so a prefix of a shape at the held text's end is
 * where a detection might still be in progress. Each shape is already closed under prefixes.
 */
export const PII_SHAPES: Readonly<Record<PiiType, string>> = {
  // Keys and tokens are runs of key characters (JWTs with their dots); `Bearer` then spaces then a
  // token; a `password=…` style pair; a PEM block, open until its end line arrives.
  secret: [
    '[A-Za-z0-9_.+/~=\\-]+',
    `[Bb]earer[ \\t\\n\\r\\v\\f]*[A-Za-z0-9._+/~\\-]*=*`,
    `[A-Za-z_\\-]+["']?[ \\t\\n\\r\\v\\f]*(?:[:=][ \\t\\n\\r\\v\\f]*["']?[^ \\t\\n\\r\\v\\f"',;]*)?`,
    '-(?:-(?:-(?:-(?:-(?:B(?:E(?:G(?:I(?:N(?:\\s[\\s\\S]*)?)?)?)?)?)?)?)?)?)?',
  ].join('|'),
  // Digits joined by single spaces or dashes.
  card: '[0-9](?:[0-9 \\-])*',
  // Upper-case letters and digits, joined by single spaces.
  iban: '[A-Z0-9][A-Z0-9 ]*',
  ssn: '[0-9][0-9\\-]*',
  // A local part, then @ and a domain.
  email: '[A-Za-z0-9._%+\\-]+(?:@[A-Za-z0-9.\\-]*)?',
  // Digit groups, maybe bracketed, after an optional +, joined by dots, dashes or spaces.
  phone: `[+(0-9][0-9().\\-${SPACE}]*`,
};

/**
 * One pattern for "a match of any of these rules (pattern + flags) or PII types may be in
 * progress": a text matches it whole exactly when it is a prefix of some match. Undefined when a
 * rule has no prefix form.
 */
export function pendingPattern(rules: readonly { readonly pattern: string; readonly flags?: string }[], pii: readonly PiiType[]): string | undefined {
  const parts: string[] = [];
  for (const r of rules) {
    const p = prefixPattern(r.pattern);
    if (p === undefined) return undefined;
    parts.push(r.flags ? `(?${r.flags}:${p})` : `(?:${p})`);
  }
  for (const t of pii) parts.push(`(?:${PII_SHAPES[t]})`);
  return parts.length ? parts.join('|') : undefined;
}
