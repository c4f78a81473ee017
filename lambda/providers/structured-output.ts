/**
 * OpenAI's `response_format` (json_object, json_schema) for providers with no JSON mode of their
 * own that can be relied on (Anthropic's Messages API, Bedrock Converse): the schema becomes one
 * extra tool the model is made to call, and that call's arguments come back as the message
 * content, so a client that asked for JSON gets JSON in `message.content` whatever the provider.
 *
 * With tools of the client's own in the request, the model must call a tool (any of them): either
 * one of the client's, which comes back as a tool call as usual, or the response tool. A client
 * that forces a tool of its own keeps that choice.
 */
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from './types';
import { clientFault } from './translate-common';
import { isObject } from '../core/is-object';

/** The response tool's name; a client tool may not use it. */
export const RESPONSE_TOOL_NAME = 'json_response';

export interface ResponseTool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the answer. */
  readonly schema: Record<string, unknown>;
}

/** How the provider should pick a tool once the response tool is added. */
export type ResponseToolChoice = 'response_tool' | 'any_tool' | 'client_choice';

/** The tool that carries a JSON answer; undefined when the request asks for text. A malformed response_format is a 400. */
export function responseToolOf(body: ChatRequest): ResponseTool | undefined {
  const format = body.response_format;
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) throw clientFault('response_format must be an object such as {"type": "json_object"}', 'invalid_response_format');
  if (body.tools?.some((t) => t.function?.name === RESPONSE_TOOL_NAME)) {
    throw clientFault(
      `a tool may not be named '${RESPONSE_TOOL_NAME}' when response_format asks for JSON: the gateway uses that name to carry the JSON answer`,
      'invalid_tools',
    );
  }
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { name: RESPONSE_TOOL_NAME, description: 'Give your complete answer as a JSON object.', schema: { type: 'object' } };
    case 'json_schema': {
      const spec = format.json_schema;
      if (!isObject(spec) || !isObject(spec.schema))
        throw clientFault('response_format.json_schema.schema must be a JSON Schema object', 'invalid_response_format');
      const named = typeof spec.name === 'string' && spec.name ? ` '${spec.name}'` : '';
      const described = typeof spec.description === 'string' && spec.description ? ` ${spec.description}` : '';
      return { name: RESPONSE_TOOL_NAME, description: `Give your complete answer as JSON matching the${named} schema.${described}`, schema: spec.schema };
    }
    default:
      throw clientFault(`response_format type '${String(format.type)}' is not supported (text, json_object, json_schema)`, 'invalid_response_format');
  }
}

export function responseToolChoice(body: ChatRequest): ResponseToolChoice {
  const choice = body.tool_choice;
  if (isObject(choice)) return 'client_choice';
  if (body.tools?.length && choice !== 'none') return 'any_tool';
  return 'response_tool';
}

/** A completion whose response-tool call becomes its content (finish_reason stop unless the client's own tools were called too). */
export function answerFromResponseTool(completion: ChatCompletion, tool: ResponseTool | undefined): ChatCompletion {
  if (!tool) return completion;
  for (const choice of completion.choices) {
    const calls = choice.message.tool_calls ?? [];
    const answer = calls.find((c) => c.function.name === tool.name);
    if (!answer) continue;
    const others = calls.filter((c) => c !== answer);
    choice.message.content = answer.function.arguments;
    if (others.length) choice.message.tool_calls = others;
    else delete choice.message.tool_calls;
    if (choice.finish_reason === 'tool_calls' && !others.length) choice.finish_reason = 'stop';
  }
  return completion;
}

/**
 * The same for a stream: the response tool's argument fragments become content deltas, the
 * client's own tool calls keep coming as tool calls (renumbered from 0), and a stream that only
 * called the response tool finishes with `stop`. (A forced or required tool call starts the
 * answer on Anthropic and Converse: there is no text before it to tell apart from the JSON.)
 */
export async function* chunksFromResponseTool(chunks: AsyncIterable<ChatCompletionChunk>, tool: ResponseTool | undefined): AsyncGenerator<ChatCompletionChunk> {
  if (!tool) return yield* chunks;
  let responseIndex: number | undefined;
  const clientIndex = new Map<number, number>();
  for await (const chunk of chunks) {
    const choice = chunk.choices[0];
    const calls = choice?.delta.tool_calls;
    if (choice && calls?.length) {
      let json = '';
      const kept: typeof calls = [];
      for (const call of calls) {
        if (call.id !== undefined && call.function?.name === tool.name) responseIndex = call.index;
        if (call.index === responseIndex) {
          json += call.function?.arguments ?? '';
          continue;
        }
        if (!clientIndex.has(call.index)) clientIndex.set(call.index, clientIndex.size);
        kept.push({ ...call, index: clientIndex.get(call.index)! });
      }
      const { tool_calls: _replaced, ...delta } = choice.delta;
      if (json) delta.content = (typeof delta.content === 'string' ? delta.content : '') + json;
      choice.delta = kept.length ? { ...delta, tool_calls: kept } : delta;
    }
    if (choice?.finish_reason === 'tool_calls' && responseIndex !== undefined && clientIndex.size === 0) choice.finish_reason = 'stop';
    yield chunk;
  }
}
