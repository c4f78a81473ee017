/** /v1/embeddings answers for the cache: JSON only (embeddings do not stream), exact lookups only. */
import type { EmbeddingsResponse } from '../../../apischema/openai';
import type { CacheCodec, StreamAssembler, Usage } from './types';

const never: StreamAssembler = { event() {}, result: () => undefined };

export const embeddingsCodec: CacheCodec = {
  streams: false,
  assembler: () => never,
  replay: () => [],
  usage(body): Usage | undefined {
    const u = (body as EmbeddingsResponse).usage;
    return u ? { promptTokens: u.prompt_tokens, completionTokens: 0 } : undefined;
  },
  withUsage: (body) => body,
  // Not a conversation: never looked up semantically in the first place.
  callsTools: () => false,
};
