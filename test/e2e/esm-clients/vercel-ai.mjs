// The Vercel AI SDK's default `openai(model)` (the Responses API) against a gateway, run as plain
// Node ESM (the SDK ships ES modules only). Prints one JSON line of results for the test to check.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';

const openai = createOpenAI({ baseURL: process.env.GATEWAY_BASE_URL, apiKey: process.env.GATEWAY_KEY });
const model = openai(process.env.GATEWAY_MODEL);

const generated = await generateText({ model, prompt: 'Say hi to Vercel' });

const streamed = streamText({ model, prompt: 'Stream to Vercel' });
let streamedText = '';
for await (const part of streamed.textStream) streamedText += part;

const toolCalls = [];
const withTool = await generateText({
  model,
  prompt: 'What is the weather in Paris?',
  tools: {
    get_weather: tool({
      description: 'Get the weather for a city',
      inputSchema: jsonSchema({ type: 'object', properties: { input: { type: 'string' } }, required: ['input'] }),
      execute: async (args) => {
        toolCalls.push(args);
        return { forecast: 'sunny' };
      },
    }),
  },
  stopWhen: stepCountIs(3),
});

process.stdout.write(
  JSON.stringify({
    generated: { text: generated.text, finishReason: generated.finishReason, usage: generated.usage, responseId: generated.response.id },
    streamed: { text: streamedText, finishReason: await streamed.finishReason },
    tool: { calls: toolCalls, steps: withTool.steps.length, text: withTool.text, finishReason: withTool.finishReason },
  }) + '\n',
);
