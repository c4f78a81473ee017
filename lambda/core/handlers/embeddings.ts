/** POST /v1/embeddings. */
import type { Pipeline } from '../pipeline';
import { estimateEmbeddingTokens } from '../tokens';
import { validateEmbeddingsRequest } from '../validate';
import { UpstreamError } from '../../providers/types';
import type { Handler } from './types';

export function embeddingsHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const body = validateEmbeddingsRequest(await p.readBody(req, ctx));
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);
    const estimate = estimateEmbeddingTokens(body.input);
    const reservation = await p.reserve(ctx, key, route, estimate, 0);
    const { value, target } = await p.callRoute(ctx, reservation, route, req.signal, async (t, upstream) => {
      const { adapter, call } = await p.providerCall(t, upstream);
      if (!adapter.embeddings) throw new UpstreamError('http', `provider '${t.provider.name}' does not offer embeddings`, 400, 'embeddings_unsupported');
      return adapter.embeddings({ ...body, model: t.model }, call);
    });
    const logged = { object: 'list', model: value.model, count: value.data.length };
    return p.respondJson(ctx, reservation, target, value.usage?.prompt_tokens ?? estimate, 0, logged, value);
  };
}
