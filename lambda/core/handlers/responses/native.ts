/**
 * /v1/responses on a target that speaks the Responses format natively (the OpenAI family): the
 * body it is sent, and its answer under the gateway's ids.
 *
 * The gateway, not the upstream, keeps responses: it rebuilds a `previous_response_id`
 * conversation itself and sends it in full as `input`, with `store: false`, so the upstream keeps
 * nothing and the gateway's stored response (its id, its conversation) stays the one source for
 * GET/DELETE, input_items and later turns, whichever target serves them. Since the upstream keeps
 * nothing, nothing sent may refer to what it would have kept: item ids are dropped from messages
 * and function calls (their content travels whole), reasoning items go only when they carry the
 * upstream's own `encrypted_content` (ask for it with `include: ["reasoning.encrypted_content"]`),
 * and built-in tool calls of earlier turns are not replayed (their results are in the answer's text;
 * a client that sends such items itself has them sent as it wrote them).
 */
import type { NativeResponsesRequest } from '../../provider';
import type { InputItem, ResponseObject, ResponsesRequest } from './wire';
import { thinkingBlocksFromEncrypted } from './reasoning-carry';

/**
 * An item as a stateless upstream can take it, or nothing when it refers to state the upstream does
 * not keep. `own`: the client sent it in this request, so a built-in tool's item goes as sent.
 */
function statelessItem(item: InputItem, own: boolean): InputItem | undefined {
  switch (item.type) {
    case 'message':
    case 'function_call':
    case 'function_call_output': {
      const { id: _id, ...rest } = item;
      return rest as InputItem;
    }
    case 'reasoning': {
      const encrypted = item.encrypted_content;
      // The gateway's own carrier of Anthropic thinking means nothing to OpenAI.
      if (typeof encrypted !== 'string' || !encrypted || thinkingBlocksFromEncrypted(encrypted).length) return undefined;
      return item;
    }
    default:
      return own ? item : undefined;
  }
}

/**
 * The body for a native target: the client's fields, with the conversation (`history`, rebuilt
 * from previous_response_id, then this request's own `input` items) in full, and `store: false`.
 */
export function nativeResponsesRequest(body: ResponsesRequest, history: readonly InputItem[], input: readonly InputItem[]): NativeResponsesRequest {
  const { previous_response_id: _previous, ...rest } = body;
  const out: ResponsesRequest = { ...rest, store: false };
  if (history.length || Array.isArray(body.input))
    out.input = [...history.flatMap((i) => statelessItem(i, false) ?? []), ...input.flatMap((i) => statelessItem(i, true) ?? [])];
  return { format: 'responses', body: out };
}

/** The upstream's response object under the gateway's id, chain and storage flag (the rest as the upstream sent it). */
export function asGatewayResponse(upstream: ResponseObject, shell: ResponseObject): ResponseObject {
  return { ...upstream, id: shell.id, previous_response_id: shell.previous_response_id, store: shell.store };
}
