// Structured output from a mock-backed model, through the gateway, with the clients people use for it:
// the Vercel AI SDK's generateObject (over the Responses API, its default, and over chat completions)
// and LangChain's withStructuredOutput (json_schema, its default, and function calling). Each client
// validates the answer against the zod schema itself and throws when it does not fit. Plain Node
// ESM (the AI SDK ships ES modules only); prints one JSON line of results for the test to check.
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject } from 'ai';
import { z } from 'zod';

const { GATEWAY_BASE_URL: baseURL, GATEWAY_KEY: apiKey, GATEWAY_MODEL: modelName } = process.env;

// A schema with what structured answers use: nested objects, arrays, enums, numbers with bounds, a date.
const Recipe = z.object({
  title: z.string(),
  servings: z.number().int().min(2).max(12),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  vegetarian: z.boolean(),
  ingredients: z.array(z.object({ name: z.string(), grams: z.number().positive() })).min(2),
  steps: z.array(z.string()).min(1),
  published: z.iso.date(),
  notes: z.string().nullable(),
});

const openai = createOpenAI({ baseURL, apiKey });
const prompt = 'A recipe for pancakes';

const viaResponses = await generateObject({ model: openai(modelName), schema: Recipe, prompt });
const viaChat = await generateObject({ model: openai.chat(modelName), schema: Recipe, prompt });

const chat = new ChatOpenAI({ model: modelName, apiKey, configuration: { baseURL }, maxRetries: 0 });
const langchainJsonSchema = await chat.withStructuredOutput(Recipe, { name: 'recipe' }).invoke(prompt);
const langchainTools = await chat.withStructuredOutput(Recipe, { name: 'recipe', method: 'functionCalling' }).invoke(prompt);

process.stdout.write(
  JSON.stringify({
    vercel: {
      responses: { object: viaResponses.object, finishReason: viaResponses.finishReason, usage: viaResponses.usage },
      chat: { object: viaChat.object, finishReason: viaChat.finishReason, usage: viaChat.usage },
    },
    langchain: { jsonSchema: langchainJsonSchema, functionCalling: langchainTools },
  }) + '\n',
);
