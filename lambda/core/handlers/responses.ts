/**
 * /v1/responses (ARCHITECTURE §12): OpenAI's Responses API on every provider. A request is
 * translated to the canonical chat request, so limits, routing, fallback, cost and the log work as
 * for chat completions; the answer (JSON or stream) is translated back into output items and the
 * specification's events. Unless `store: false`, the response and its conversation are kept per
 * key (one store write), and `previous_response_id` rebuilds the conversation (one store read).
 */
import { jsonResponse } from '../buffered-response';
import { GatewayError, errors } from '../errors';
import type { KeyRecord } from '../keys';
import type { Pipeline } from '../pipeline';
import { DEFAULT_RESPONSES_TTL_DAYS, type StoredResponse } from '../response-store';
import { streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { pathOf } from '../url-path';
import { clientFault } from '../../providers/translate-common';
import { DEFAULT_OUTPUT_RESERVATION } from './chat-completions';
import { responsesSseEncoder } from './responses/encoder';
import { builtInToolsOf, inputItemsOf, responsesToCanonical, validateResponsesRequest } from './responses/request';
import { completedResponse, newId, outputText, responseShell, usageToResponses } from './responses/response';
import type { InputItem, OutputItem, ResponseObject } from './responses/wire';
import type { Handler } from './types';

const DAY_MS = 86_400_000;

/** OpenAI's 404 for a response id this key does not have (unknown, deleted, expired, or another key's). */
function responseNotFound(id: string, param: string | null = null): GatewayError {
  return new GatewayError({
    status: 404,
    type: 'invalid_request_error',
    code: param ? 'previous_response_not_found' : 'response_not_found',
    message: param ? `Previous response with id '${id}' not found.` : `Response with id '${id}' not found.`,
    param,
  });
}

/** A response's output items as the input items of the next turn. */
function outputAsInput(output: readonly OutputItem[]): InputItem[] {
  return output.map((item): InputItem => {
    if (item.type === 'message') return { type: 'message', id: item.id, role: 'assistant', content: item.content };
    return item;
  });
}

/** This request's own input, each item with an id (input_items lists them by it). */
function withIds(items: readonly InputItem[]): InputItem[] {
  return items.map((item) => (item.id ? item : { ...item, id: newId(item.type === 'function_call' ? 'fc' : item.type === 'reasoning' ? 'rs' : 'msg') }));
}

/** The response id in /v1/responses/{id}[/input_items]. */
function responseIdOf(req: Request): string {
  const rest = pathOf(req.url).replace(/\/+$/, '').slice('/v1/responses/'.length);
  return decodeURIComponent(rest.replace(/\/input_items$/, ''));
}

export function responsesHandlers(p: Pipeline): { create: Handler; get: Handler; remove: Handler; inputItems: Handler } {
  const store = p.deps.responseStore;
  const ttlMs = (p.deps.config.settings?.responses?.ttlDays ?? DEFAULT_RESPONSES_TTL_DAYS) * DAY_MS;

  async function stored(key: KeyRecord, id: string, param: string | null = null): Promise<StoredResponse> {
    const found = store ? await store.get(key.id, id) : undefined;
    if (!found) throw responseNotFound(id, param);
    return found;
  }

  /** Keep the response; a response that cannot be kept is still answered, marked `store: false`. */
  async function keep(key: KeyRecord, requestId: string, record: StoredResponse): Promise<ResponseObject> {
    if (!store || !record.response.store) return record.response;
    try {
      if (await store.put(key.id, record, p.now() + ttlMs)) return record.response;
      p.logger.warn('response too large to store', { requestId, responseId: record.response.id });
    } catch (err) {
      p.logger.error('storing a response failed', { requestId, error: String(err) });
    }
    return { ...record.response, store: false };
  }

  const create: Handler = async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const raw = await p.readBody(req, ctx);
    ctx.stream = raw.stream === true;
    const body = validateResponsesRequest(raw);
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);

    const previousId = typeof body.previous_response_id === 'string' ? body.previous_response_id : null;
    const earlier = previousId ? await stored(key, previousId, 'previous_response_id') : undefined;
    const history = earlier ? [...earlier.conversation, ...outputAsInput(earlier.response.output)] : [];
    const input = withIds(inputItemsOf(body));
    const canonical = responsesToCanonical(body, [...history, ...input]);
    const builtIns = builtInToolsOf(body);

    const promptEstimate = estimatePromptTokens(canonical);
    const reservation = await p.reserve(ctx, key, route, promptEstimate, body.max_output_tokens ?? DEFAULT_OUTPUT_RESERVATION);
    const { value, target } = await p.callRoute(ctx, reservation, route, req.signal, async (t, upstream) => {
      if (builtIns.length)
        throw clientFault(
          `built-in tools (${builtIns.join(', ')}) run only on OpenAI itself; '${t.provider.name}' cannot run them through this gateway`,
          'unsupported_tool',
        );
      return p.chatAttempt(canonical, t, upstream);
    });

    const shell = responseShell(body, {
      id: newId('resp'),
      createdAt: Math.floor(ctx.startedAt / 1000),
      model: body.model,
      store: body.store !== false && store !== undefined,
      previousResponseId: previousId,
    });
    const record = (response: ResponseObject): StoredResponse => ({ response, conversation: [...history, ...input], inputStart: history.length });

    if (value.kind === 'stream') {
      const encoder = responsesSseEncoder({
        shell,
        now: p.now,
        promptEstimate,
        estimateOutput: estimateTextTokens,
        onComplete: (final) => keep(key, ctx.id, record(final)),
      });
      return streamToClient({ pipeline: p, ctx, reservation, target, peeked: value.peeked, encoder, promptEstimate });
    }
    const completion = value.response;
    const draft = completedResponse(shell, completion, usageToResponses(completion.usage, { input: promptEstimate, output: 0 }), Math.floor(p.now() / 1000));
    if (!completion.usage) {
      const output = estimateTextTokens(outputText(draft.output) + JSON.stringify(draft.output.filter((i) => i.type === 'function_call')));
      draft.usage = usageToResponses(undefined, { input: promptEstimate, output });
    }
    const final = await keep(key, ctx.id, record(draft));
    const usage = final.usage!;
    return p.respondJson(ctx, reservation, target, usage.input_tokens, usage.output_tokens, final, final);
  };

  const get: Handler = async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const found = await stored(key, responseIdOf(req));
    return jsonResponse(found.response, 200, p.gatewayHeaders(ctx));
  };

  const remove: Handler = async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const id = responseIdOf(req);
    if (!store || !(await store.delete(key.id, id))) throw responseNotFound(id);
    return jsonResponse({ id, object: 'response', deleted: true }, 200, p.gatewayHeaders(ctx));
  };

  const inputItems: Handler = async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const found = await stored(key, responseIdOf(req));
    const params = new URL(req.url).searchParams;
    const order = params.get('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw errors.badRequest("'order' must be 'asc' or 'desc'.", 'order');
    const limit = params.has('limit') ? Number(params.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw errors.badRequest("'limit' must be an integer between 1 and 100.", 'limit');
    let items = found.conversation.slice(found.inputStart);
    if (order === 'desc') items = [...items].reverse();
    const after = params.get('after');
    if (after) {
      const at = items.findIndex((i) => i.id === after);
      items = at >= 0 ? items.slice(at + 1) : [];
    }
    const data = items.slice(0, limit);
    return jsonResponse(
      { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: items.length > limit },
      200,
      p.gatewayHeaders(ctx),
    );
  };

  return { create, get, remove, inputItems };
}
