/**
 * Files sent with a prompt: chat completions' `file` content part (the canonical form), the
 * Responses API's `input_file` and Anthropic's `document` block all carry the file itself as a
 * base64 data URL (`data:application/pdf;base64,…`), with an optional file name. Files uploaded
 * elsewhere (`file_id`) or fetched by the provider (`file_url`) are not available through the
 * gateway: it has no Files API of its own, and a client never holds the provider's key that such
 * an id would belong to (only a target that takes the Responses API natively may be sent one, as the
 * client wrote it). Checks here are linear in the data URL's length and never decode it.
 */
import { errors } from './errors';
import { isObject } from './is-object';

/** A file given inline: its media type and its bytes as base64 (a slice of the data URL, not a copy). */
export interface InlineFile {
  readonly mediaType: string;
  readonly base64: string;
}

/** The canonical (chat completions) file part's `file` field. */
export interface FilePartFile {
  filename?: string;
  file_data?: string;
  file_id?: string;
  /** Only on the way to native Responses targets (never sent to a chat completions upstream). */
  file_url?: string;
}

export const UPLOADED_FILES_REFUSED =
  "uploaded or remote files ('file_id', 'file_url') are not available through this gateway; send the file's content as 'file_data', a base64 data URL such as data:application/pdf;base64,…";

export const UPLOADED_IMAGES_REFUSED =
  "uploaded files ('file_id') are not available through this gateway; send the image itself as 'image_url', a base64 data URL such as data:image/png;base64,… (or an http(s) URL)";

const MEDIA_TYPE = /^[a-z0-9][\w.+-]*\/[\w.+-]+$/;
/** Standard base64 (what Buffer, btoa and every SDK produce), padded. One pass, no backtracking. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The media type and base64 payload of `data:<type>[;param…];base64,<payload>`, or undefined when it is not one. */
export function inlineFileOf(dataUrl: string): InlineFile | undefined {
  if (!dataUrl.startsWith('data:')) return undefined;
  const comma = dataUrl.indexOf(',');
  if (comma < 0 || comma > 512) return undefined;
  const params = dataUrl.slice(5, comma).split(';');
  const mediaType = params[0].trim().toLowerCase();
  if (!MEDIA_TYPE.test(mediaType) || params[params.length - 1].trim().toLowerCase() !== 'base64') return undefined;
  const base64 = dataUrl.slice(comma + 1);
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return undefined;
  return { mediaType, base64 };
}

/** The number of bytes a padded base64 string decodes to (no decoding). */
export function decodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** `file_data` checked: a base64 data URL with a media type, else a 400 naming `param`. */
export function checkFileData(fileData: unknown, param: string): InlineFile {
  const file = typeof fileData === 'string' ? inlineFileOf(fileData) : undefined;
  if (!file)
    throw errors.badRequest(`'${param}' must be a base64 data URL with the file's media type, such as data:application/pdf;base64,…`, param, 'invalid_file');
  return file;
}

/** A chat completions `file` part checked: `file.file_data` (a data URL) and an optional `file.filename`; `file_id` is refused. */
export function checkFilePart(part: Record<string, unknown>, at: string): void {
  const f = part.file;
  if (!isObject(f)) throw errors.badRequest(`'${at}.file' must be an object with 'file_data' (a base64 data URL) and an optional 'filename'.`, `${at}.file`);
  if (f.filename !== undefined && f.filename !== null && typeof f.filename !== 'string')
    throw errors.badRequest(`'${at}.file.filename' must be a string.`, `${at}.file.filename`);
  if (f.file_data === undefined && f.file_id !== undefined)
    throw errors.badRequest(`'${at}.file.file_id': ${UPLOADED_FILES_REFUSED}`, `${at}.file.file_id`, 'unsupported_content');
  checkFileData(f.file_data, `${at}.file.file_data`);
}
