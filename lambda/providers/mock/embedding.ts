/**
 * The mock provider's embeddings: lexical, so the semantic cache can be tried locally with no
 * credentials. A text becomes a bag of word stems (lower-cased, filler and request words such as
 * "please", "give me", "the" dropped, each word cut to its first five letters), each stem hashed to
 * one signed dimension. Paraphrases that use the same content words ("Summarize this contract",
 * "Give me a summary of this contract") get similarity 1; texts sharing half their content words
 * about 0.5. It knows nothing of meaning: synonyms ("car", "automobile") are unrelated to it.
 */
import { createHash } from 'node:crypto';

/** Dimensions when the request names none. */
export const MOCK_EMBEDDING_DIMENSIONS = 256;

const FILLER = new Set(
  (
    'a an the this that these those of to in on at for from by with about as into over and or but if then so ' +
    'i me my mine we us our you your yours it its he she they them their is are was were be been being am do does did ' +
    'can could would should will shall may might must please kindly give tell show let provide write make get need want ' +
    'what which who whom whose how why when where here there some any all just also very really quick quickly short brief briefly'
  ).split(' '),
);

/** Content-word stems of a text, in order (repeats kept: a repeated word weighs more). */
export function stems(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const content = words.filter((w) => !FILLER.has(w));
  return (content.length ? content : words).map((w) => w.slice(0, 5));
}

/** A unit vector of `dims` dimensions from the text's stems (the zero-free fallback for an empty text). */
export function lexicalEmbedding(text: string, dims = MOCK_EMBEDDING_DIMENSIONS): number[] {
  const v = new Array<number>(dims).fill(0);
  const all = stems(text);
  for (const stem of all.length ? all : ['']) {
    const h = createHash('sha256').update(stem).digest();
    v[h.readUInt32LE(0) % dims] += h[4] & 1 ? 1 : -1;
  }
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum) || 1;
  return v.map((x) => Number((x / norm).toFixed(6)));
}
