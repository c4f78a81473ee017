/**
 * The Open Responses specification's schemas that its compliance suite validates against
 * (`ResponseResource` for a whole response, and the union of streaming events), written with zod
 * from the specification's OpenAPI components: same required fields, same types, same enums. Only
 * the members a gateway can emit are spelled out in full; the suite's union accepts each of them.
 */
import { z } from 'zod';

const int = () => z.number().int();
const nullable = <T extends z.ZodType>(t: T) => z.union([t, z.null()]);

const inputText = z.object({ type: z.literal('input_text'), text: z.string() });
const urlCitation = z.object({ type: z.literal('url_citation'), url: z.string(), start_index: int(), end_index: int(), title: z.string() });
const topLogProb = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(int()) });
const logProb = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(int()), top_logprobs: z.array(topLogProb) });
// The suite's generated schema requires logprobs here (the OpenAPI text marks it optional): the stricter one.
const outputText = z.object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(urlCitation), logprobs: z.array(logProb) });
const textContent = z.object({ type: z.literal('text'), text: z.string() });
const summaryText = z.object({ type: z.literal('summary_text'), text: z.string() });
const reasoningText = z.object({ type: z.literal('reasoning_text'), text: z.string() });
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });
const inputImage = z.object({ type: z.literal('input_image'), image_url: nullable(z.string()), detail: z.enum(['low', 'high', 'auto']) });
const inputFile = z.object({ type: z.literal('input_file'), filename: z.string().optional(), file_url: z.string().optional() });
const inputVideo = z.object({ type: z.literal('input_video'), video_url: z.string() });
const contentPart = z.union([inputText, outputText, textContent, summaryText, reasoningText, refusal, inputImage, inputFile]);

const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']);
const message = z.object({
  type: z.literal('message'),
  id: z.string(),
  status: itemStatus,
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.array(z.union([contentPart, inputVideo])),
  phase: z.enum(['commentary', 'final_answer']).optional(),
});
const functionCall = z.object({
  type: z.literal('function_call'),
  id: z.string(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: itemStatus,
});
const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  id: z.string(),
  call_id: z.string(),
  output: z.union([z.string(), z.array(z.union([inputText, inputImage, inputFile]))]),
  status: itemStatus,
});
const reasoningBody = z.object({
  type: z.literal('reasoning'),
  id: z.string(),
  content: z.array(contentPart).optional(),
  summary: z.array(contentPart),
  encrypted_content: z.string().optional(),
});
const compactionBody = z.object({ type: z.literal('compaction'), id: z.string(), encrypted_content: z.string(), created_by: z.string().optional() });
export const itemField = z.union([message, functionCall, functionCallOutput, reasoningBody, compactionBody]);

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string(),
  description: nullable(z.string()),
  parameters: nullable(z.record(z.string(), z.unknown())),
  strict: nullable(z.boolean()),
});
const toolChoiceMode = z.enum(['none', 'auto', 'required']);
const functionToolChoice = z.object({ type: z.literal('function'), name: z.string().optional() });
const allowedToolChoice = z.object({ type: z.literal('allowed_tools'), tools: z.array(functionToolChoice), mode: toolChoiceMode });
const textField = z.object({
  format: z.union([
    z.object({ type: z.literal('text') }),
    z.object({ type: z.literal('json_object') }),
    z.object({ type: z.literal('json_schema'), name: z.string(), description: nullable(z.string()), schema: z.unknown(), strict: z.boolean() }),
  ]),
  verbosity: z.enum(['low', 'medium', 'high']).optional(),
});
const usage = z.object({
  input_tokens: int(),
  output_tokens: int(),
  total_tokens: int(),
  input_tokens_details: z.object({ cached_tokens: int() }),
  output_tokens_details: z.object({ reasoning_tokens: int() }),
});

export const responseResource = z.object({
  id: z.string(),
  object: z.literal('response'),
  created_at: int(),
  completed_at: nullable(int()),
  status: z.string(),
  incomplete_details: nullable(z.object({ reason: z.string() })),
  model: z.string(),
  previous_response_id: nullable(z.string()),
  instructions: nullable(z.string()),
  output: z.array(itemField),
  error: nullable(z.object({ code: z.string(), message: z.string() })),
  tools: z.array(functionTool),
  tool_choice: z.union([functionToolChoice, toolChoiceMode, allowedToolChoice]),
  truncation: z.enum(['auto', 'disabled']),
  parallel_tool_calls: z.boolean(),
  text: textField,
  top_p: z.number(),
  presence_penalty: z.number(),
  frequency_penalty: z.number(),
  top_logprobs: int(),
  temperature: z.number(),
  reasoning: nullable(
    z.object({
      effort: nullable(z.enum(['none', 'low', 'medium', 'high', 'xhigh'])),
      summary: nullable(z.enum(['concise', 'detailed', 'auto'])),
    }),
  ),
  usage: nullable(usage),
  max_output_tokens: nullable(int()),
  max_tool_calls: nullable(int()),
  store: z.boolean(),
  background: z.boolean(),
  service_tier: z.string(),
  metadata: z.unknown(),
  safety_identifier: nullable(z.string()),
  prompt_cache_key: nullable(z.string()),
});

const seq = { sequence_number: int() };
const withResponse = (type: string) => z.object({ type: z.literal(type), ...seq, response: responseResource });
const itemEvent = (type: string) => z.object({ type: z.literal(type), ...seq, output_index: int(), item: nullable(itemField) });
const partEvent = (type: string) =>
  z.object({ type: z.literal(type), ...seq, item_id: z.string(), output_index: int(), content_index: int(), part: contentPart });
const summaryPartEvent = (type: string) =>
  z.object({ type: z.literal(type), ...seq, item_id: z.string(), output_index: int(), summary_index: int(), part: contentPart });
const at = { item_id: z.string(), output_index: int() };

export const streamingEvent = z.union([
  withResponse('response.created'),
  withResponse('response.queued'),
  withResponse('response.in_progress'),
  withResponse('response.completed'),
  withResponse('response.failed'),
  withResponse('response.incomplete'),
  itemEvent('response.output_item.added'),
  itemEvent('response.output_item.done'),
  summaryPartEvent('response.reasoning_summary_part.added'),
  summaryPartEvent('response.reasoning_summary_part.done'),
  partEvent('response.content_part.added'),
  partEvent('response.content_part.done'),
  z.object({
    type: z.literal('response.output_text.delta'),
    ...seq,
    ...at,
    content_index: int(),
    delta: z.string(),
    logprobs: z.array(logProb).optional(),
    obfuscation: z.string().optional(),
  }),
  z.object({ type: z.literal('response.output_text.done'), ...seq, ...at, content_index: int(), text: z.string(), logprobs: z.array(logProb).optional() }),
  z.object({ type: z.literal('response.refusal.delta'), ...seq, ...at, content_index: int(), delta: z.string() }),
  z.object({ type: z.literal('response.refusal.done'), ...seq, ...at, content_index: int(), refusal: z.string() }),
  z.object({ type: z.literal('response.reasoning.delta'), ...seq, ...at, content_index: int(), delta: z.string(), obfuscation: z.string().optional() }),
  z.object({ type: z.literal('response.reasoning.done'), ...seq, ...at, content_index: int(), text: z.string() }),
  z.object({
    type: z.literal('response.reasoning_summary_text.delta'),
    ...seq,
    ...at,
    summary_index: int(),
    delta: z.string(),
    obfuscation: z.string().optional(),
  }),
  z.object({ type: z.literal('response.reasoning_summary_text.done'), ...seq, ...at, summary_index: int(), text: z.string() }),
  z.object({
    type: z.literal('response.output_text.annotation.added'),
    ...seq,
    ...at,
    content_index: int(),
    annotation_index: int(),
    annotation: nullable(urlCitation),
  }),
  z.object({ type: z.literal('response.function_call_arguments.delta'), ...seq, ...at, delta: z.string(), obfuscation: z.string().optional() }),
  z.object({ type: z.literal('response.function_call_arguments.done'), ...seq, ...at, arguments: z.string() }),
  z.object({
    type: z.literal('error'),
    ...seq,
    error: z.object({
      type: z.string(),
      code: nullable(z.string()),
      message: z.string(),
      param: nullable(z.string()),
      headers: z.record(z.string(), z.string()).optional(),
    }),
  }),
]);
