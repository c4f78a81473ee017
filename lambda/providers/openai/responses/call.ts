/**
 * One native /v1/responses call to a provider that speaks the Responses format (OpenAI, Azure
 * OpenAI): the body the gateway prepared (the client's fields, the conversation in full, `store:
 * false`) goes to the config-derived Responses URL with only the model and `stream` set here; the
 * answer comes back as the upstream sent it, beside its canonical view.
 */
import type { ResponseObject } from '../../../apischema/responses';
import { STEERING_FIELDS } from '../../../core/validate';
import { postUpstream, readUpstreamJson, streamBody } from '../../http-call';
import { type ChatRequest, type ChatResult, type NativeResponsesRequest, type ProviderCall, UpstreamError } from '../../types';
import { ResponsesAnswer } from './answer';
import { completionFromResponse } from './canonical';
import { responsesChunks } from './stream';
import { serverToolUseOf, webSearchKindOf } from './tool-calls';

/** Where and how a provider takes Responses calls; from config only. */
export interface ResponsesEndpoint {
  /** The full Responses URL (`{baseUrl}/responses` for OpenAI). */
  url(call: ProviderCall): string;
  /** Auth and static headers. */
  headers(call: ProviderCall): Record<string, string>;
  /** The `model` sent upstream (Azure: the deployment). @default call.model */
  model?(call: ProviderCall): string;
}

export function responsesBody(body: ChatRequest, native: NativeResponsesRequest, call: ProviderCall, endpoint: ResponsesEndpoint): Record<string, unknown> {
  const out: Record<string, unknown> = { ...native.body, model: endpoint.model ? endpoint.model(call) : call.model };
  // Defence in depth: the core already drops these (core/validate.ts); never forward them.
  for (const f of STEERING_FIELDS) delete out[f];
  if (body.stream) out.stream = true;
  else {
    delete out.stream;
    delete out.stream_options;
  }
  return out;
}

export async function responsesChat(body: ChatRequest, native: NativeResponsesRequest, call: ProviderCall, endpoint: ResponsesEndpoint): Promise<ChatResult> {
  const res = await postUpstream(call, endpoint.url(call), endpoint.headers(call), responsesBody(body, native, call, endpoint));
  const answer = new ResponsesAnswer();
  if (body.stream) return { stream: true, chunks: responsesChunks(streamBody(res, call), call, answer, native.body.tools), native: answer };
  const json = await readUpstreamJson<ResponseObject>(res, call);
  if (!json || typeof json !== 'object' || !Array.isArray(json.output))
    throw new UpstreamError('malformed', `${call.provider.name} returned JSON that is not a response object`, 502, 'malformed_response');
  const completion = completionFromResponse(json, call.provider.name);
  // The built-in tool calls the provider bills per call, beside the tokens (tool-calls.ts).
  const tools = serverToolUseOf(json.output, webSearchKindOf(json, native.body.tools));
  if (tools && completion.usage) completion.usage.server_tool_use = tools;
  return { stream: false, response: answer.noteResponse(completion, json), native: answer };
}
