/** The cache codec of each cached endpoint. An endpoint without one is never cached. */
import { chatCodec } from './chat';
import { embeddingsCodec } from './embeddings';
import { messagesCodec } from './messages';
import { responsesCodec } from './responses';
import type { CacheCodec } from './types';

export type { CacheCodec, StreamAssembler, Usage } from './types';

export const CACHE_CODECS: Readonly<Record<string, CacheCodec>> = {
  '/v1/chat/completions': chatCodec,
  '/v1/messages': messagesCodec,
  '/v1/responses': responsesCodec,
  '/v1/embeddings': embeddingsCodec,
};
