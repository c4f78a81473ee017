/**
 * /v1/messages to Claude on Bedrock, natively: the client's Anthropic body goes through
 * InvokeModel / InvokeModelWithResponseStream with Bedrock's anthropic_version, so cache_control,
 * documents and thinking survive, and the answer is Anthropic's own message or events.
 */
import type { ResponseStream } from '@aws-sdk/client-bedrock-runtime';
import { fromAnthropicAnswer } from '../anthropic/response';
import { anthropicEventChunks } from '../anthropic/stream';
import { MessagesAnswer } from '../anthropic/native-answer';
import type { AnthropicRequest, AnthropicResponse, AnthropicStreamEvent } from '../anthropic/wire';
import { type ChatRequest, type ChatResult, type NativeMessagesRequest, type ProviderCall, UpstreamError } from '../types';
import { bedrockClient } from './client';
import { bedrockError } from './errors';
import { invokeInput, invokeJson } from './invoke';

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** Claude model ids, inference profiles (us.anthropic.claude-…) and ARNs naming one. */
export function isBedrockClaude(modelId: string): boolean {
  return /(^|[./:])anthropic\.claude/.test(modelId);
}

/** Fields of the Messages API that Bedrock's InvokeModel body does not take (the model is in the URL). */
const NOT_ON_BEDROCK = ['model', 'stream', 'metadata', 'service_tier', 'container', 'mcp_servers'];

export function bedrockClaudeBody(native: AnthropicRequest, beta?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...native };
  for (const k of NOT_ON_BEDROCK) delete out[k];
  out.anthropic_version = BEDROCK_ANTHROPIC_VERSION;
  if (beta)
    out.anthropic_beta = beta
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  return out;
}

/** Anthropic events from Bedrock's response stream: each chunk's bytes are one event's JSON. */
export async function* claudeEvents(stream: AsyncIterable<ResponseStream>, providerName: string): AsyncGenerator<AnthropicStreamEvent> {
  const decoder = new TextDecoder();
  for await (const ev of stream) {
    if (!ev.chunk?.bytes) continue;
    try {
      yield JSON.parse(decoder.decode(ev.chunk.bytes)) as AnthropicStreamEvent;
    } catch {
      throw new UpstreamError('malformed', `${providerName} sent a stream chunk that is not valid JSON`, 502, 'malformed_response');
    }
  }
}

export async function claudeNativeChat(body: ChatRequest, native: NativeMessagesRequest, call: ProviderCall): Promise<ChatResult> {
  const payload = bedrockClaudeBody(native.body, native.beta);
  const answer = new MessagesAnswer();
  if (!body.stream) {
    const message = (await invokeJson(call, payload)) as AnthropicResponse;
    return { stream: false, response: answer.noteMessage(fromAnthropicAnswer(message, call.provider.name), message), native: answer };
  }
  const { client, sdk } = await bedrockClient(call.provider.config);
  const out = await client
    .send(new sdk.InvokeModelWithResponseStreamCommand(invokeInput(call, payload)), { abortSignal: call.signal })
    .catch((err: unknown) => {
      throw bedrockError(err, call);
    });
  if (!out.body) throw new UpstreamError('malformed', `${call.provider.name} returned an empty stream`, 502, 'malformed_response');
  return {
    stream: true,
    chunks: anthropicEventChunks(claudeEvents(out.body, call.provider.name), call, (err) => bedrockError(err, call), answer),
    native: answer,
  };
}
