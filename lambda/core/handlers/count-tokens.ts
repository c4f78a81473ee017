/**
 * POST /v1/messages/count_tokens (Anthropic's shape): the input tokens of a Messages request for a
 * configured model. The route's primary target counts when its provider offers a count of its own
 * (Anthropic); otherwise, or when that count fails, the gateway's estimator does. The
 * `x-gateway-token-count` header says which (`provider` or `estimate`). Counting spends nothing,
 * so no reservation is taken.
 */
import { jsonResponse } from '../buffered-response';
import type { Pipeline } from '../pipeline';
import { estimatePromptTokens } from '../tokens';
import { betaHeader, messagesToCanonical, validateMessagesRequest } from './messages/request';
import type { Handler } from './types';

/** How long the provider's count may take before the estimate answers instead. */
const PROVIDER_COUNT_TIMEOUT_MS = 10_000;

export function countTokensHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const raw = await p.readBody(req, ctx);
    // count_tokens takes a Messages request without max_tokens.
    const body = messagesToCanonical(validateMessagesRequest({ max_tokens: 1, ...raw }), betaHeader(req.headers.get('anthropic-beta')));
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);
    const target = route.targets[0];
    let counted: number | undefined;
    try {
      const signal = AbortSignal.any([req.signal, AbortSignal.timeout(PROVIDER_COUNT_TIMEOUT_MS)]);
      const { adapter, call } = await p.providerCall(target, { signal, firstByte: () => undefined });
      if (adapter.countTokens) {
        counted = await adapter.countTokens({ ...body, model: target.model }, call);
        ctx.provider = target.provider.name;
        ctx.model = target.model;
      }
    } catch (err) {
      p.logger.warn('provider token count failed; answering with the estimate', { requestId: ctx.id, error: String(err) });
    }
    const inputTokens = counted ?? estimatePromptTokens(body);
    return jsonResponse({ input_tokens: inputTokens }, 200, {
      ...p.gatewayHeaders(ctx),
      'x-gateway-token-count': counted === undefined ? 'estimate' : 'provider',
    });
  };
}
