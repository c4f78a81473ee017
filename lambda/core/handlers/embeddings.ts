/** POST /v1/embeddings. */
import { type EmbeddingsCall, defineEndpoint } from '../endpoint';
import { respondJson } from '../respond';
import type { GatewayServices } from '../services';
import { estimateEmbeddingTokens } from '../tokens';
import { callRoute, providerCall } from '../upstream-call';
import { validateEmbeddingsRequest } from '../validate';
import { UpstreamError } from '../provider';

export const embeddingsEndpoint = (s: GatewayServices) =>
  defineEndpoint<EmbeddingsCall>({
    method: 'POST',
    path: '/v1/embeddings',
    parse(raw) {
      const request = validateEmbeddingsRequest(raw);
      return { kind: 'embeddings', model: request.model, request, promptTokens: estimateEmbeddingTokens(request.input), outputTokens: 0 };
    },
    async handle(ctx, call) {
      const { value, target } = await callRoute(s, ctx, async (t, upstream) => {
        const { adapter, call: providerCallCtx } = await providerCall(s, t, upstream);
        if (!adapter.embeddings) throw new UpstreamError('http', `provider '${t.provider.name}' does not offer embeddings`, 400, 'embeddings_unsupported');
        return adapter.embeddings({ ...call.request, model: t.model }, providerCallCtx);
      });
      const logged = { object: 'list', model: value.model, count: value.data.length };
      return respondJson(s, ctx, target, { prompt: value.usage?.prompt_tokens ?? call.promptTokens, completion: 0 }, logged, value);
    },
  });
