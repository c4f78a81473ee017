/**
 * The semantic cache's embedder: the configured `semantic.embeddingModel` is called through the
 * gateway's own catalog and router, so it is any route that serves /v1/embeddings (OpenAI,
 * Bedrock Titan, Cohere through an OpenAI-compatible endpoint, the mock), with that route's
 * targets, retries, fallback and credentials. The call is the gateway's own: it is not charged to
 * the client's key, and a failure is the cache's (a bypass), never the client's.
 */
import type { AttemptLog } from '../log-record';
import type { ModelCatalog } from '../models';
import type { Router } from '../router';
import { type ProviderAccess, providerCall } from '../upstream-call';
import { UpstreamError } from '../provider';
import type { Embedder } from './response-cache';

export interface EmbedderDeps extends ProviderAccess {
  readonly catalog: ModelCatalog;
  readonly router: Router;
}

export function routedEmbedder(s: EmbedderDeps): Embedder {
  return async (model, text, signal) => {
    const route = s.catalog.route(model);
    const attempts: AttemptLog[] = [];
    const out = await s.router.execute(route, signal, attempts, false, async ({ target, signal: attemptSignal, firstByte }) => {
      const { adapter, call } = await providerCall(s, target, { signal: attemptSignal, firstByte });
      if (!adapter.embeddings) throw new UpstreamError('http', `provider '${target.provider.name}' does not offer embeddings`, 400, 'embeddings_unsupported');
      return adapter.embeddings({ model: target.model, input: text }, call);
    });
    const vector = out.value.data[0]?.embedding;
    if (!Array.isArray(vector) || vector.length === 0) throw new Error(`the embeddings route '${model}' answered without a float vector`);
    return vector;
  };
}
