/**
 * Fast token estimation for reservations (the provider's real usage settles them afterwards).
 * One pass over the characters, weighting each class by what BPE tokenizers (OpenAI's o200k)
 * make of it: ASCII letters and digits merge into words (about 4.8 characters a token),
 * punctuation and newlines often stand alone, CJK characters are close to a token each.
 * Measured error against real counts on sample prompts: README "Limits and budgets"
 * (test/runtime/limits/estimation.test.ts keeps it honest). About a nanosecond per character.
 */
import type { ChatMessage, ChatRequest } from '../apischema/openai';
import { type FilePartFile, decodedBytes, inlineFileOf } from './file-parts';

/** <|start|>role<|message|> … <|end|>: what every chat message adds around its content. */
const PER_MESSAGE_OVERHEAD = 4;
/** Every reply is primed with <|start|>assistant<|message|>. */
const REPLY_PRIMING = 3;
const IMAGE_TOKENS = 765; // OpenAI's figure for a 1024x1024 image at high detail
/**
 * A PDF page as the providers bill it: Anthropic sends each page as its text plus an image of it,
 * "typically 1,500 to 3,000 tokens a page"; OpenAI does the same; Gemini bills 258 a page. The
 * upper figure is the least a PDF (or a file whose size is not known: a `file_id`) is counted.
 */
const FILE_PAGE_TOKENS = 3000;
/**
 * Tokens counted per decoded byte of a file. Without parsing the file, its size is all there is:
 * text (and a text-only PDF page, ~10 KB and ~3,000 tokens) runs at about 0.25–0.3 tokens a byte,
 * so 0.3 is an upper figure for text documents; a scanned PDF (images, ~100 KB+ a page) is
 * overcounted, which only holds back more of a limit until the provider's usage settles it.
 */
const FILE_TOKENS_PER_BYTE = 0.3;

const WEIGHT_ALNUM = 0.21;
const WEIGHT_SPACE = 0.03;
const WEIGHT_PUNCT = 0.6;
const WEIGHT_CJK = 0.8;
const WEIGHT_OTHER = 0.6;

export function estimateTextTokens(text: string): number {
  let alnum = 0;
  let space = 0;
  let punct = 0;
  let cjk = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) alnum++;
    else if (c === 32) space++;
    else if (c < 128) punct++;
    else if (c >= 0x2e80) cjk++;
    else other++;
  }
  return Math.ceil(alnum * WEIGHT_ALNUM + space * WEIGHT_SPACE + punct * WEIGHT_PUNCT + cjk * WEIGHT_CJK + other * WEIGHT_OTHER);
}

function messageTokens(m: ChatMessage): number {
  let n = PER_MESSAGE_OVERHEAD;
  const name = (m as { name?: unknown }).name;
  if (typeof name === 'string') n += 1 + estimateTextTokens(name);
  if (typeof m.content === 'string') n += estimateTextTokens(m.content);
  else if (Array.isArray(m.content)) {
    for (const part of m.content) {
      if (part.type === 'text' && typeof (part as { text?: unknown }).text === 'string') n += estimateTextTokens((part as { text: string }).text);
      else if (part.type === 'image_url') n += IMAGE_TOKENS;
      else if (part.type === 'file') n += estimateFileTokens((part as { file?: FilePartFile }).file);
    }
  }
  if (m.tool_calls) n += estimateTextTokens(JSON.stringify(m.tool_calls));
  return n;
}

/**
 * A file part's tokens from its decoded size (one pass over the data URL, no decoding): an
 * image as an image part; anything else at FILE_TOKENS_PER_BYTE, and never less than a PDF page.
 */
export function estimateFileTokens(file: FilePartFile | undefined): number {
  const inline = typeof file?.file_data === 'string' ? inlineFileOf(file.file_data) : undefined;
  if (!inline) return FILE_PAGE_TOKENS;
  if (inline.mediaType.startsWith('image/')) return IMAGE_TOKENS;
  return Math.max(FILE_PAGE_TOKENS, Math.ceil(decodedBytes(inline.base64) * FILE_TOKENS_PER_BYTE));
}

export function estimatePromptTokens(body: ChatRequest): number {
  let n = REPLY_PRIMING;
  for (const m of body.messages) n += messageTokens(m);
  if (body.tools) n += estimateTextTokens(JSON.stringify(body.tools));
  return n;
}

export function estimateEmbeddingTokens(input: unknown): number {
  if (typeof input === 'string') return estimateTextTokens(input);
  if (Array.isArray(input)) return input.reduce<number>((n, x) => n + (typeof x === 'string' ? estimateTextTokens(x) : Array.isArray(x) ? x.length : 1), 0);
  return 0;
}
