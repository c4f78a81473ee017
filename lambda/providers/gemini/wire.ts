/** Gemini API (generativelanguage.googleapis.com v1beta) wire types: the subset the gateway translates. */
export type GeminiPart =
  | { text: string; thought?: boolean }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args?: Record<string, unknown>; id?: string }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown>; id?: string; parts?: GeminiFunctionResponsePart[] } };

/** Media a function's response carries beside its JSON (FunctionResponsePart: read by Gemini 3 models). */
export type GeminiFunctionResponsePart = { inlineData: { mimeType: string; data: string } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parameters?: Record<string, unknown> }> }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: Record<string, unknown>;
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
}

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
  error?: { code?: number; message?: string; status?: string };
}

/**
 * Gemini's thinking models sign their function calls (`thoughtSignature`) and require the
 * signature back with the call in later turns. OpenAI's format has no place for it, so it rides in
 * the tool call id, which clients echo verbatim: `<id>__thought__<signature>`.
 */
export const THOUGHT_SIGNATURE_SEPARATOR = '__thought__';

export function idWithSignature(id: string, signature: string | undefined): string {
  return signature ? `${id}${THOUGHT_SIGNATURE_SEPARATOR}${signature}` : id;
}

export function signatureFromId(id: string | undefined): string | undefined {
  const at = id?.indexOf(THOUGHT_SIGNATURE_SEPARATOR) ?? -1;
  return id && at >= 0 ? id.slice(at + THOUGHT_SIGNATURE_SEPARATOR.length) || undefined : undefined;
}
