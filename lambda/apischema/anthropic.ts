/**
 * The wire schema of Anthropic's Messages API (the subset the gateway reads; other fields pass
 * through), shared by the /v1/messages endpoint and the providers that speak it (Anthropic, Claude
 * on Bedrock). Also the stop-reason map from the canonical finish reasons.
 */
import type { FinishReason } from './openai';

export type AnthropicImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

/** A document's source: base64 (PDF), plain text, or ones only Anthropic can read (a URL, an uploaded file, content blocks). */
export type AnthropicDocumentSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'text'; media_type: 'text/plain'; data: string }
  | { type: 'url'; url: string }
  | { type: 'file'; file_id: string }
  | { type: 'content'; content: unknown };

export type AnthropicBlock =
  | { type: 'text'; text: string; [extra: string]: unknown }
  | { type: 'image'; source: AnthropicImageSource; [extra: string]: unknown }
  | {
      type: 'document';
      source: AnthropicDocumentSource;
      title?: string | null;
      context?: string | null;
      citations?: { enabled?: boolean } | null;
      [extra: string]: unknown;
    }
  | { type: 'tool_use'; id: string; name: string; input: unknown; [extra: string]: unknown }
  | { type: 'tool_result'; tool_use_id: string; content?: string | AnthropicBlock[]; is_error?: boolean; [extra: string]: unknown }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data: string };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  [extra: string]: unknown;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  thinking?: { type: 'enabled'; budget_tokens: number };
  messages: AnthropicMessage[];
  system?: string | Array<{ type: 'text'; text: string; [extra: string]: unknown }>;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  metadata?: { user_id?: string };
  [extra: string]: unknown;
}

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Server tools the model ran (billed per use on top of tokens). */
  server_tool_use?: { web_search_requests?: number | null; web_fetch_requests?: number | null } | null;
}

export interface AnthropicResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** Stream events (https://docs.anthropic.com/en/api/messages-streaming). */
export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicResponse }
  | { type: 'content_block_start'; index: number; content_block: AnthropicBlock }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: string; text?: string; partial_json?: string; thinking?: string; signature?: string; [extra: string]: unknown };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: AnthropicStopReason | null; stop_sequence?: string | null }; usage: Partial<AnthropicUsage> }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: { type: string; message: string } };

/** OpenAI finish reason → Anthropic stop reason (for the /v1/messages endpoint). */
export function stopReasonToAnthropic(reason: FinishReason | undefined): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}
