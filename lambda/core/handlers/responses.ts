/**
 * /v1/responses (ARCHITECTURE §12): OpenAI's Responses API on every provider. A request is
 * translated to the canonical chat request, so limits, routing, fallback, cost and the log work as
 * for chat completions; the answer (JSON or stream) is translated back into output items and the
 * specification's events. A target whose provider speaks the Responses format (the OpenAI family:
 * the provider says so) receives the client's body instead (responses/native.ts: the conversation
 * in full, `store: false`) and its own answer is relayed under the gateway's response id; built-in
 * tools (web search, file search, …) pass only when every target of the route speaks it. Unless
 * `store: false`, the response and its conversation are kept per key (one store write), and
 * `previous_response_id` rebuilds the conversation (one store read), whichever target served it.
 */
import { jsonResponse } from '../buffered-response';
import { type ChatCall, type Endpoint, defineEndpoint } from '../endpoint';
import { GatewayError, errors } from '../errors';
import type { KeyRecord } from '../keys';
import { gatewayHeaders, respondJson } from '../respond';
import { DEFAULT_RESPONSES_TTL_DAYS, type StoredResponse } from '../response-store';
import type { GatewayServices } from '../services';
import { streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { callChatRoute, chatAttempt, nativeFor } from '../upstream-call';
import { pathOf } from '../url-path';
import { clientFault } from '../provider';
import { UPLOADED_FILES_REFUSED, UPLOADED_IMAGES_REFUSED } from '../file-parts';
import { DEFAULT_OUTPUT_RESERVATION } from './chat-completions';
import { asGatewayResponse, nativeResponsesRequest } from './responses/native';
import { responsesStreamEncoder } from './responses/native-encoder';
import {
  type UploadedFileRef,
  builtInItemsOf,
  builtInToolsOf,
  inputItemsOf,
  responsesToCanonical,
  uploadedFilesIn,
  uploadedFilesOf,
  validateResponsesRequest,
} from './responses/request';
import { completedResponse, newId, outputText, responseShell, usageToResponses } from './responses/response';
import type { InputItem, OutputItem, ResponseObject, ResponsesRequest } from './responses/wire';

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

/** A Responses call: the canonical chat request (the stored conversation included), and what answering it needs. */
interface ResponsesCall extends ChatCall {
  readonly body: ResponsesRequest;
  readonly previousId: string | null;
  /** The earlier turns rebuilt from previous_response_id, then this request's own input. */
  readonly history: InputItem[];
  readonly input: InputItem[];
  /** OpenAI's built-in tools the request asks for (only OpenAI itself can run them). */
  readonly builtIns: string[];
  /** Items of built-in tools the client sent back (only targets that take the Responses API natively can take them). */
  readonly builtInItems: Array<{ at: string; type: string }>;
  /** Files the client names by `file_id` / `file_url` (only targets that take the Responses API natively can be sent them). */
  readonly uploadedFiles: UploadedFileRef[];
  /** The same, in the stored conversation previous_response_id rebuilds (an earlier turn may have had an all-native route). */
  readonly uploadedFilesEarlier: UploadedFileRef[];
}

export function responsesEndpoints(s: GatewayServices): Endpoint[] {
  const store = s.deps.responseStore;
  const ttlMs = (s.config.settings?.responses?.ttlDays ?? DEFAULT_RESPONSES_TTL_DAYS) * DAY_MS;

  async function stored(key: KeyRecord, id: string, param: string | null = null): Promise<StoredResponse> {
    const found = store ? await store.get(key.id, id) : undefined;
    if (!found) throw responseNotFound(id, param);
    return found;
  }

  /** Keep the response; a response that cannot be kept is still answered, marked `store: false`. */
  async function keep(key: KeyRecord, requestId: string, record: StoredResponse): Promise<ResponseObject> {
    if (!store || !record.response.store) return record.response;
    try {
      if (await store.put(key.id, record, s.now() + ttlMs)) return record.response;
      s.logger.warn('response too large to store', { requestId, responseId: record.response.id });
    } catch (err) {
      s.logger.error('storing a response failed', { requestId, error: String(err) });
    }
    return { ...record.response, store: false };
  }

  const create = defineEndpoint<ResponsesCall>({
    method: 'POST',
    path: '/v1/responses',
    streams: true,
    async parse(raw, ctx) {
      // Items of built-in tools and uploaded files are for the route to decide (handle): native targets take them.
      const body = validateResponsesRequest(raw, { builtInItems: 'defer', uploadedFiles: 'defer' });
      const previousId = typeof body.previous_response_id === 'string' ? body.previous_response_id : null;
      const earlier = previousId ? await stored(ctx.key!, previousId, 'previous_response_id') : undefined;
      const history = earlier ? [...earlier.conversation, ...outputAsInput(earlier.response.output)] : [];
      const input = withIds(inputItemsOf(body));
      const request = responsesToCanonical(body, [...history, ...input]);
      return {
        kind: 'chat',
        model: body.model,
        request,
        // The client's own items, without the ids the gateway gave them for input_items.
        native: nativeResponsesRequest(body, history, inputItemsOf(body)),
        promptTokens: estimatePromptTokens(request),
        outputTokens: body.max_output_tokens ?? DEFAULT_OUTPUT_RESERVATION,
        body,
        previousId,
        history,
        input,
        builtIns: builtInToolsOf(body),
        builtInItems: builtInItemsOf(body),
        uploadedFiles: uploadedFilesOf(body),
        uploadedFilesEarlier: uploadedFilesIn(history, 'conversation'),
      };
    },
    async handle(ctx, call) {
      const { body, history, input, builtIns, promptTokens: promptEstimate } = call;
      const key = ctx.key!;
      // Built-in tools run only upstream, on targets that take the Responses body natively: every
      // target the route may try must, so a fallback can never quietly drop them.
      const foreign =
        builtIns.length || call.builtInItems.length || call.uploadedFiles.length || call.uploadedFilesEarlier.length
          ? ctx.route?.targets.find((t) => !nativeFor(s, t, call.native))
          : undefined;
      const file = foreign && (call.uploadedFiles[0] ?? call.uploadedFilesEarlier[0]);
      if (file) {
        const where = `${file.at}.${file.field}`;
        const earlier = !call.uploadedFiles.length;
        throw errors.badRequest(
          `${earlier ? `the conversation of 'previous_response_id' holds '${where}'` : `'${where}'`}: ${file.image ? UPLOADED_IMAGES_REFUSED : UPLOADED_FILES_REFUSED} (only targets that take the Responses API natively may be sent one, and '${foreign.provider.name}' does not).`,
          earlier ? 'previous_response_id' : where,
          'unsupported_content',
        );
      }
      const item = foreign && call.builtInItems[0];
      if (item)
        throw errors.badRequest(
          `'${item.at}': '${item.type}' items come from built-in tools, which run only on OpenAI itself (targets that take the Responses API natively); '${foreign.provider.name}' cannot take them through this gateway.`,
          `${item.at}.type`,
          'unsupported_item',
        );
      const { value, target } = await callChatRoute(s, ctx, async (t, upstream) => {
        if (foreign)
          throw clientFault(
            `built-in tools (${builtIns.join(', ')}) run only on OpenAI itself (targets that take the Responses API natively); '${foreign.provider.name}' cannot run them through this gateway`,
            'unsupported_tool',
          );
        return chatAttempt(s, call.request, t, upstream, nativeFor(s, t, call.native));
      });
      // The upstream's own Responses answer, when a target that speaks the format served it.
      const native = value.native?.format === 'responses' ? value.native : undefined;

      const shell = responseShell(body, {
        id: newId('resp'),
        createdAt: Math.floor(ctx.startedAt / 1000),
        model: body.model,
        store: body.store !== false && store !== undefined,
        previousResponseId: call.previousId,
      });
      const record = (response: ResponseObject): StoredResponse => ({ response, conversation: [...history, ...input], inputStart: history.length });

      if (value.kind === 'stream') {
        const encoder = responsesStreamEncoder(
          { shell, now: s.now, promptEstimate, estimateOutput: estimateTextTokens, onComplete: (final) => keep(key, ctx.id, record(final)) },
          native,
        );
        return streamToClient({ services: s, ctx, target, peeked: value.peeked, encoder, promptEstimate });
      }
      const completion = value.response;
      const own = native?.response(completion);
      const draft = own
        ? asGatewayResponse(own, shell)
        : completedResponse(shell, completion, usageToResponses(completion.usage, { input: promptEstimate, output: 0 }), Math.floor(s.now() / 1000));
      if (!completion.usage) {
        const output = estimateTextTokens(outputText(draft.output) + JSON.stringify(draft.output.filter((i) => i.type === 'function_call')));
        draft.usage = usageToResponses(undefined, { input: promptEstimate, output });
      }
      const final = await keep(key, ctx.id, record(draft));
      const usage = final.usage!;
      return respondJson(s, ctx, target, { prompt: usage.input_tokens, completion: usage.output_tokens, billed: completion.usage }, final, final);
    },
  });

  const get = defineEndpoint<undefined>({
    method: 'GET',
    path: '/v1/responses/{id}',
    async handle(ctx) {
      const found = await stored(ctx.key!, responseIdOf(ctx.request));
      return jsonResponse(found.response, 200, gatewayHeaders(s, ctx));
    },
  });

  const remove = defineEndpoint<undefined>({
    method: 'DELETE',
    path: '/v1/responses/{id}',
    async handle(ctx) {
      const id = responseIdOf(ctx.request);
      if (!store || !(await store.delete(ctx.key!.id, id))) throw responseNotFound(id);
      return jsonResponse({ id, object: 'response', deleted: true }, 200, gatewayHeaders(s, ctx));
    },
  });

  const inputItems = defineEndpoint<undefined>({
    method: 'GET',
    path: '/v1/responses/{id}/input_items',
    async handle(ctx) {
      const found = await stored(ctx.key!, responseIdOf(ctx.request));
      const params = new URL(ctx.request.url).searchParams;
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
        gatewayHeaders(s, ctx),
      );
    },
  });

  return [create, get, remove, inputItems];
}
