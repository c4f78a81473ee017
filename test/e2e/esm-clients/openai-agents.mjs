// The OpenAI Agents SDK running an agent with one function tool against a gateway (Responses API),
// as plain Node ESM. Tracing is off: it would export to OpenAI. Prints one JSON line of results.
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';

setTracingDisabled(true);
setOpenAIAPI('responses');
setDefaultOpenAIClient(new OpenAI({ baseURL: process.env.GATEWAY_BASE_URL, apiKey: process.env.GATEWAY_KEY, maxRetries: 0 }));

const calls = [];
const lookup = tool({
  name: 'lookup_order',
  description: 'Look up an order by its number',
  parameters: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'], additionalProperties: false },
  strict: true,
  execute: async (args) => {
    calls.push(args);
    return 'Order 42 shipped yesterday.';
  },
});
const agent = new Agent({ name: 'Support', instructions: 'Answer questions about orders.', model: process.env.GATEWAY_MODEL, tools: [lookup] });
const result = await run(agent, 'Where is order 42?');

process.stdout.write(
  JSON.stringify({
    finalOutput: result.finalOutput,
    calls,
    items: result.newItems.map((i) => i.type),
    lastResponseId: result.lastResponseId,
  }) + '\n',
);
