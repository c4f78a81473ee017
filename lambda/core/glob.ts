/**
 * Model-scope globs (`*` any run of characters, '/' included; `?` one character; case-sensitive),
 * matched in time linear in the model name for each glob: the glob is split at its stars into
 * fixed-length segments, the first anchored at the start, the last at the end, and each middle one
 * found at its leftmost place after the one before (leftmost is always safe for `*`-separated
 * segments). A segment without `?` is found with the native substring search; one with `?` with a
 * bit-parallel (shift-and) scan, a few word operations per character. A regular expression built
 * from the glob (`.*a.*a.*b`) backtracks polynomially instead.
 */

const QUESTION = 63;

interface Segment {
  readonly text: string;
  /**
   * Shift-and tables when the segment has a `?`: for each Latin-1 character (model names are
   * Latin-1, validate.ts), `words` 32-bit masks of the positions it may fill, flat; row 256 is
   * `?` alone, for any other character.
   */
  readonly wild?: { readonly words: number; readonly masks: Uint32Array };
}

const ANY_ROW = 256;

export interface CompiledGlob {
  /** No star: the name must match `segments[0]` exactly, position by position. */
  readonly exact: boolean;
  readonly segments: readonly Segment[];
}

function segment(text: string): Segment {
  if (!text.includes('?')) return { text };
  const words = (text.length + 31) >>> 5;
  const masks = new Uint32Array((ANY_ROW + 1) * words);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const bit = 1 << (i & 31);
    const w = i >>> 5;
    if (c === QUESTION) for (let row = 0; row <= ANY_ROW; row++) masks[row * words + w] |= bit;
    else if (c < ANY_ROW) masks[c * words + w] |= bit;
  }
  return { text, wild: { words, masks } };
}

export function compileGlob(glob: string): CompiledGlob {
  const parts = glob.split('*');
  return { exact: parts.length === 1, segments: parts.map(segment) };
}

/** Whether `seg` matches `name` at `at` (the caller checked it fits). */
function segmentAt(seg: string, name: string, at: number): boolean {
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c !== QUESTION && c !== name.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Leftmost start ≥ `from` where `seg` matches and ends by `end`, or -1. Linear in `end - from`. */
function find(seg: Segment, name: string, from: number, end: number): number {
  const len = seg.text.length;
  if (!seg.wild) {
    const at = name.indexOf(seg.text, from);
    return at >= 0 && at + len <= end ? at : -1;
  }
  const { words, masks } = seg.wild;
  const state = new Uint32Array(words);
  const lastWord = (len - 1) >>> 5;
  const lastBit = 1 << ((len - 1) & 31);
  for (let i = from; i < end; i++) {
    const c = name.charCodeAt(i);
    const row = Math.min(c, ANY_ROW) * words;
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const s = state[w];
      state[w] = ((s << 1) | carry) & masks[row + w];
      carry = s >>> 31;
    }
    if (state[lastWord] & lastBit) return i - len + 1;
  }
  return -1;
}

export function matchGlob(glob: CompiledGlob, name: string): boolean {
  const segs = glob.segments;
  if (glob.exact) return segs[0].text.length === name.length && segmentAt(segs[0].text, name, 0);
  const first = segs[0].text;
  const last = segs[segs.length - 1].text;
  if (first.length + last.length > name.length) return false;
  if (!segmentAt(first, name, 0) || !segmentAt(last, name, name.length - last.length)) return false;
  let pos = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < segs.length - 1; i++) {
    const seg = segs[i];
    if (!seg.text) continue; // `**`
    const at = find(seg, name, pos, end);
    if (at < 0) return false;
    pos = at + seg.text.length;
  }
  return true;
}

/** Compiled globs, bounded (globs come from key records). */
const cache = new Map<string, CompiledGlob>();
const CACHE_MAX = 10_000;

export function globMatches(glob: string, name: string): boolean {
  let compiled = cache.get(glob);
  if (!compiled) {
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(glob, (compiled = compileGlob(glob)));
  }
  return matchGlob(compiled, name);
}

/** The most globs one key may carry, and the longest glob (admin input is held to these). */
export const MAX_MODEL_GLOBS = 32;
export const MAX_GLOB_CHARS = 128;
