/**
 * Amazon Bedrock through the AWS SDK: Converse / ConverseStream for chat (any Converse model),
 * InvokeModel for Titan and Cohere embeddings, and the native Messages body for Claude when the
 * request came in on /v1/messages (claude-native.ts). Region from config; config
 * `baseUrl` becomes the SDK endpoint (VPC endpoints, tests).
 */
import { randomUUID } from 'node:crypto';
import { estimateEmbeddingTokens } from '../../core/tokens';
import {
  type ChatRequest,
  type ChatResult,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type NativeRequest,
  type ProviderAdapter,
  type ProviderCall,
  UpstreamError,
} from '../types';
import { encodeEmbedding, textInputs } from '../translate-common';
import { bedrockClient } from './client';
import { claudeNativeChat, isBedrockClaude } from './claude-native';
import { cohereBody, embeddingFamily, readCohere, readTitan, titanBody } from './embeddings';
import { bedrockError } from './errors';
import { invokeJson } from './invoke';
import { answerFromResponseTool, chunksFromResponseTool, responseToolOf } from '../structured-output';
import { toConverseInput } from './request';
import { fromConverseOutput } from './response';
import { bedrockChunks } from './stream';

function malformed(call: ProviderCall, what: string): UpstreamError {
  return new UpstreamError('malformed', `${call.provider.name} returned ${what}`, 502, 'malformed_response');
}

export const bedrockProvider: ProviderAdapter = {
  /** Claude models take the Messages body natively (InvokeModel); every other model goes through Converse. */
  speaks: (format, model) => format === 'messages' && isBedrockClaude(model),
  async chat(body: ChatRequest, call: ProviderCall, native?: NativeRequest): Promise<ChatResult> {
    if (native?.format === 'messages') return claudeNativeChat(body, native, call);
    const input = toConverseInput(body, call.model);
    const { client, sdk } = await bedrockClient(call.provider.config);
    const id = `chatcmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    if (body.stream) {
      const out = await client.send(new sdk.ConverseStreamCommand(input), { abortSignal: call.signal }).catch((err: unknown) => {
        throw bedrockError(err, call);
      });
      if (!out.stream) throw malformed(call, 'an empty stream');
      return { stream: true, chunks: chunksFromResponseTool(bedrockChunks(out.stream, call, id), responseToolOf(body)) };
    }
    const out = await client.send(new sdk.ConverseCommand(input), { abortSignal: call.signal }).catch((err: unknown) => {
      throw bedrockError(err, call);
    });
    if (!out.output?.message) throw malformed(call, 'a Converse answer without a message');
    return { stream: false, response: answerFromResponseTool(fromConverseOutput(out, call.model, id), responseToolOf(body)) };
  },

  async embeddings(body: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
    const family = embeddingFamily(call.model);
    const inputs = textInputs(body, 'Bedrock');
    let vectors: number[][];
    let tokens: number;
    try {
      if (family === 'titan') {
        const answers = await Promise.all(inputs.map(async (text) => readTitan((await invokeJson(call, titanBody(text, body))) as never)));
        vectors = answers.map((a) => a.vector);
        tokens = answers.reduce((n, a) => n + a.tokens, 0);
      } else {
        vectors = readCohere((await invokeJson(call, cohereBody(inputs, body))) as never);
        // Cohere on Bedrock reports no token count in the body: the estimate stands in.
        tokens = estimateEmbeddingTokens(inputs);
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw malformed(call, `an embeddings answer in an unexpected shape for ${family}`);
    }
    if (vectors.length !== inputs.length) throw malformed(call, `${vectors.length} embeddings for ${inputs.length} inputs`);
    return {
      object: 'list',
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: encodeEmbedding(v, body.encoding_format) })),
      model: call.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
};
