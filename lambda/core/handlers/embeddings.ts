/** POST /v1/embeddings. */
import { jsonResponse } from '../buffered-response';
import { readJsonObject } from '../body';
import type { Pipeline } from '../pipeline';
import { estimateEmbeddingTokens } from '../tokens';
import { validateEmbeddingsRequest } from '../validate';
import { UpstreamError } from '../../providers/types';
import type { Handler } from './types';

export function embeddingsHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const raw = await readJsonObject(req, p.maxBodyBytes);
    ctx.requestBody = raw;
    if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
    const body = validateEmbeddingsRequest(raw);
    const first = p.catalog.route(body.model).targets[0];
    p.authorizeModel(key, body.model);
    const estimate = estimateEmbeddingTokens(body.input);
    const costEstimate = p.prices.cost(first.provider.name, first.model, { prompt_tokens: estimate, completion_tokens: 0 }) ?? 0;
    const reservation = await p.limiter.reserve(key, { tokens: estimate, costUsd: costEstimate }, ctx.id);
    const { value, target } = await p.callRoute(ctx, reservation, body.model, req.signal, async (t, signal) => {
      const { adapter, call } = await p.providerCall(t, signal);
      if (!adapter.embeddings) throw new UpstreamError('http', `provider '${t.provider.name}' does not offer embeddings`, 400, 'embeddings_unsupported');
      return adapter.embeddings({ ...body, model: t.model }, call);
    });
    p.recordUsage(ctx, target, value.usage?.prompt_tokens ?? estimate, 0);
    ctx.responseBody = { object: 'list', model: value.model, count: value.data.length };
    await p.settleOrRelease(reservation, ctx, true);
    return jsonResponse(value, 200, p.gatewayHeaders(ctx, reservation));
  };
}
