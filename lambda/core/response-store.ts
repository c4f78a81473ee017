/**
 * The stored-responses port (ARCHITECTURE §12): a response and the conversation it answered, kept
 * per virtual key so `previous_response_id` works with every provider (the gateway rebuilds the
 * conversation) and GET/DELETE /v1/responses/{id} work. Another key's id is simply not found.
 */
import type { InputItem, ResponseObject } from './handlers/responses/wire';

export interface StoredResponse {
  readonly response: ResponseObject;
  /** The conversation this response answered: earlier turns, then this request's own input. */
  readonly conversation: readonly InputItem[];
  /** Where this request's own input starts in `conversation` (GET …/input_items lists from there). */
  readonly inputStart: number;
}

export interface ResponseStore {
  /** Keep a response until `expiresAtMs`. False when it is too large to keep (nothing is written then). */
  put(keyId: string, record: StoredResponse, expiresAtMs: number): Promise<boolean>;
  /** The key's stored response with this id, if it exists and has not expired. */
  get(keyId: string, id: string): Promise<StoredResponse | undefined>;
  /** Delete the key's stored response; false when there was none. */
  delete(keyId: string, id: string): Promise<boolean>;
}

/** How long a stored response is kept when settings.responses.ttlDays is not set. */
export const DEFAULT_RESPONSES_TTL_DAYS = 30;
