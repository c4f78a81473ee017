/**
 * POST /v1/messages/count_tokens (Anthropic's shape): the input tokens of a Messages request for a
 * configured model. The route's primary target counts when its provider offers a count of its own
 * (Anthropic); otherwise, or when that count fails, the gateway's estimator does. The
 * `x-gateway-token-count` header says which (`provider` or `estimate`). Counting spends nothing,
 * so no reservation is taken.
 */
import { jsonResponse } from '../buffered-response';
import { type ChatCall, defineEndpoint } from '../endpoint';
import { gatewayHeaders } from '../respond';
import type { GatewayServices } from '../services';
import { estimatePromptTokens } from '../tokens';
import { nativeFor, providerCall } from '../upstream-call';
import { betaHeader, messagesToCanonical, nativeMessagesRequest, validateMessagesRequest } from './messages/request';

/** How long the provider's count may take before the estimate answers instead. */
const PROVIDER_COUNT_TIMEOUT_MS = 10_000;

export const countTokensEndpoint = (s: GatewayServices) =>
  defineEndpoint<ChatCall>({
    method: 'POST',
    path: '/v1/messages/count_tokens',
    errorFormat: 'anthropic',
    spends: false,
    parse(raw, ctx) {
      // count_tokens takes a Messages request without max_tokens.
      const body = validateMessagesRequest({ max_tokens: 1, ...raw });
      const native = nativeMessagesRequest(body, betaHeader(ctx.request.headers.get('anthropic-beta')));
      const request = messagesToCanonical(body);
      return { kind: 'chat', model: request.model, request, native, promptTokens: estimatePromptTokens(request), outputTokens: 0 };
    },
    async handle(ctx, call) {
      const body = call.request;
      const target = ctx.route!.targets[0];
      let counted: number | undefined;
      try {
        const signal = AbortSignal.any([ctx.request.signal, AbortSignal.timeout(PROVIDER_COUNT_TIMEOUT_MS)]);
        const { adapter, call: upstream } = await providerCall(s, target, { signal, firstByte: () => undefined });
        if (adapter.countTokens) {
          counted = await adapter.countTokens({ ...body, model: target.model }, upstream, nativeFor(s, target, call.native));
          ctx.provider = target.provider.name;
          ctx.model = target.model;
        }
      } catch (err) {
        s.logger.warn('provider token count failed; answering with the estimate', { requestId: ctx.id, error: String(err) });
      }
      const inputTokens = counted ?? call.promptTokens;
      return jsonResponse({ input_tokens: inputTokens }, 200, {
        ...gatewayHeaders(s, ctx),
        'x-gateway-token-count': counted === undefined ? 'estimate' : 'provider',
      });
    },
  });
