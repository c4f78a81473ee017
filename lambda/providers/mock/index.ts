/**
 * The mock provider answers locally and deterministically, so the gateway runs with zero
 * credentials. The same request always gets the same answer. Model names ending in
 * `-fail-<status>` (e.g. `mock-fail-429`) fail with that status, to try fallback routes locally.
 *
 * It answers the way the OpenAI API does, so real clients work against it unchanged: tools are
 * called with arguments that satisfy their parameter schema, `response_format` gets JSON content
 * (satisfying the json_schema), embeddings come as floats or base64 as asked and with the asked
 * dimensions, and every answer (each stream too) reports usage.
 */
import { createHash } from 'node:crypto';
import { estimatePromptTokens, estimateTextTokens } from '../../core/tokens';
import { MOCK_EMBEDDING_DIMENSIONS, lexicalEmbedding } from './embedding';
import { valueForSchema } from './schema-value';
import { responseToolOf } from '../structured-output';
import { encodeEmbedding, fileRef } from '../translate-common';
import { decodedBytes } from '../../core/file-parts';
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type ChatResult,
  type ContentPart,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type ProviderAdapter,
  type ProviderCall,
  UpstreamError,
} from '../types';

/** How the mock shows a part other than text in its answer: a file by its name, type and size (so a client sees the file arrived). */
function partLabel(p: ContentPart): string {
  if (p.type === 'text') return (p as { text: string }).text;
  if (p.type !== 'file') return `[${p.type}]`;
  const f = fileRef(p);
  return `[read file ${f.filename ?? '(unnamed)'}: ${f.mediaType}, ${decodedBytes(f.base64)} bytes]`;
}

function lastUserText(body: ChatRequest): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.map(partLabel).join(' ');
  }
  return '';
}

function idFor(body: unknown): string {
  return 'chatcmpl-mock-' + createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

function failIfAsked(call: ProviderCall) {
  const m = /-fail-(\d{3})$/.exec(call.model);
  if (m) throw new UpstreamError('http', `mock provider failing as asked (HTTP ${m[1]})`, Number(m[1]), 'mock_failure');
}

function answerFor(body: ChatRequest): { content: string | null; toolCall?: { name: string; arguments: string } } {
  // Checked first, as the API does: a malformed response_format is a 400 whatever else is asked.
  const jsonAnswer = responseToolOf(body);
  const wantsTool = body.tools?.length && body.tool_choice !== 'none';
  const lastIsToolResult = body.messages[body.messages.length - 1]?.role === 'tool';
  const text = lastUserText(body);
  if (wantsTool && !lastIsToolResult) {
    // Only a 'function' choice names a tool; other object choices (allowed_tools, custom) pick the first.
    const forced = typeof body.tool_choice === 'object' && body.tool_choice?.type === 'function' ? body.tool_choice.function?.name : undefined;
    const tool = body.tools!.find((t) => t.function.name === forced) ?? body.tools![0];
    return {
      content: null,
      toolCall: { name: tool.function.name, arguments: JSON.stringify(valueForSchema(tool.function.parameters ?? {}, text.slice(0, 100))) },
    };
  }
  const reply = `This is a mock response to: ${text.length > 200 ? text.slice(0, 200) + '…' : text}`;
  if (jsonAnswer) {
    // json_object names no shape: the reply in one field. json_schema: a value its schema accepts.
    const { type } = body.response_format as { type: 'json_object' | 'json_schema' }; // responseToolOf checked it
    const value = type === 'json_object' ? { response: reply } : valueForSchema(jsonAnswer.schema, text.slice(0, 100));
    return { content: JSON.stringify(value) };
  }
  return { content: reply };
}

function capped(content: string, body: ChatRequest): { text: string; truncated: boolean } {
  const cap = body.max_completion_tokens ?? body.max_tokens;
  if (!cap || estimateTextTokens(content) <= cap) return { text: content, truncated: false };
  return { text: content.slice(0, cap * 4), truncated: true };
}

/** Most values in one mock embedding (OpenAI's largest model has 3072). */
export const MOCK_MAX_DIMENSIONS = 3072;

export const mockProvider: ProviderAdapter = {
  async chat(body: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    failIfAsked(call);
    const id = idFor({ m: body.messages, model: call.model });
    const created = 1_700_000_000;
    const answer = answerFor(body);
    const { text, truncated } = answer.content === null ? { text: null, truncated: false } : capped(answer.content, body);
    const prompt_tokens = estimatePromptTokens(body);
    const completion_tokens = text !== null ? estimateTextTokens(text) : estimateTextTokens(answer.toolCall!.arguments) + 5;
    const usage = { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
    const finish = answer.toolCall ? 'tool_calls' : truncated ? 'length' : 'stop';
    const toolCalls = answer.toolCall ? [{ id: `call_${id.slice(-12)}`, type: 'function' as const, function: answer.toolCall }] : undefined;

    if (!body.stream) {
      const response: ChatCompletion = {
        id,
        object: 'chat.completion',
        created,
        model: call.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, ...(toolCalls ? { tool_calls: toolCalls } : {}), refusal: null },
            finish_reason: finish,
            logprobs: null,
          },
        ],
        usage,
      };
      return { stream: false, response };
    }

    const base = { id, object: 'chat.completion.chunk' as const, created, model: call.model };
    async function* chunks(): AsyncGenerator<ChatCompletionChunk> {
      yield { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] };
      if (toolCalls) {
        yield { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...toolCalls[0] }] }, finish_reason: null }] };
      } else {
        for (const word of (text ?? '').match(/\S+\s*/g) ?? []) {
          if (call.signal.aborted) throw new UpstreamError('timeout', 'mock stream aborted', undefined, 'aborted');
          yield { ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] };
        }
      }
      yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] };
      yield { ...base, choices: [], usage };
    }
    return { stream: true, chunks: chunks() };
  },

  async embeddings(body: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
    failIfAsked(call);
    // A list of numbers is one token-array input (as OpenAI reads it), not one input per number.
    const input = body.input as unknown;
    const inputs = Array.isArray(input) && !input.every((x) => typeof x === 'number') ? input : [input];
    // The answer stays in proportion to the request: a few bytes never ask for megabytes of vector.
    const dims = Math.min(body.dimensions ?? MOCK_EMBEDDING_DIMENSIONS, MOCK_MAX_DIMENSIONS);
    let tokens = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      tokens += Math.max(1, estimateTextTokens(text));
      // Lexical, so paraphrases land close together and the semantic cache can be tried locally.
      return { object: 'embedding' as const, index, embedding: encodeEmbedding(lexicalEmbedding(text, dims), body.encoding_format) };
    });
    return { object: 'list', data, model: call.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  },
};
