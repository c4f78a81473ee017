/**
 * Embeddings through InvokeModel: Amazon Titan (one input per call, calls run in parallel) and
 * Cohere Embed (one batched call). Each family's body and answer are translated here.
 */
import { bedrockFoundationModel } from '../../contract/bedrock-model-ids';
import type { EmbeddingsRequest } from '../types';
import { clientFault } from '../translate-common';

export type EmbeddingFamily = 'titan' | 'cohere';

export function embeddingFamily(modelId: string): EmbeddingFamily {
  // Cross-region inference profiles prefix the model id (us.cohere.embed-…).
  const id = bedrockFoundationModel(modelId);
  if (id.startsWith('amazon.titan-embed')) return 'titan';
  if (id.startsWith('cohere.embed')) return 'cohere';
  throw clientFault(`Bedrock embeddings support Amazon Titan and Cohere embedding models, not '${modelId}'`, 'embeddings_unsupported');
}

export function titanBody(text: string, body: EmbeddingsRequest): Record<string, unknown> {
  return { inputText: text, ...(body.dimensions ? { dimensions: body.dimensions } : {}) };
}

export function cohereBody(texts: string[], body: EmbeddingsRequest): Record<string, unknown> {
  // input_type is required by Cohere; a client may pass its own (search_query, classification, …).
  const inputType = typeof body.input_type === 'string' ? body.input_type : 'search_document';
  return { texts, input_type: inputType, ...(body.dimensions ? { output_dimension: body.dimensions } : {}) };
}

/** Titan: `{ embedding, inputTextTokenCount }`. */
export function readTitan(json: { embedding?: number[]; inputTextTokenCount?: number }): { vector: number[]; tokens: number } {
  if (!Array.isArray(json?.embedding)) throw new Error('no embedding');
  return { vector: json.embedding, tokens: json.inputTextTokenCount ?? 0 };
}

/** Cohere: `{ embeddings: number[][] }`, or `{ embeddings: { float: number[][] } }` when types were asked for. */
export function readCohere(json: { embeddings?: number[][] | { float?: number[][] } }): number[][] {
  const e = json?.embeddings;
  const vectors = Array.isArray(e) ? e : e?.float;
  if (!Array.isArray(vectors)) throw new Error('no embeddings');
  return vectors;
}
