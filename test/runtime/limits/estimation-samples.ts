/** Sample prompts for measuring the token estimator (README "Limits and budgets" quotes the result). */
import type { ChatMessage } from '../../../lambda/providers/types';

export interface Sample {
  readonly name: string;
  readonly messages: ChatMessage[];
}

/** OpenAI cookbook "How to count tokens with tiktoken": the API reported 124 prompt tokens for gpt-4o, 129 for gpt-4 / gpt-3.5-turbo. */
export const COOKBOOK_MESSAGES = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
  { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
] as ChatMessage[];

const user = (content: string): ChatMessage[] => [
  { role: 'system', content: 'You are a concise assistant.' },
  { role: 'user', content },
];

export const SAMPLES: Sample[] = [
  { name: 'cookbook few-shot (English)', messages: COOKBOOK_MESSAGES },
  { name: 'short question', messages: user('What is the capital of Australia?') },
  {
    name: 'English prose',
    messages: user(
      'Summarise the following for a product manager. Our gateway proxies requests from many internal teams to several model providers. ' +
        'Each team has a virtual key with limits on requests and tokens per minute, a daily token quota and a monthly budget in US dollars. ' +
        'When a provider is slow or returns errors, the gateway falls back to another provider that serves an equivalent model, and it records ' +
        'every attempt in a request log that analysts query with Athena. We want to know which teams are closest to their budgets and why.',
    ),
  },
  {
    name: 'TypeScript code',
    messages: user(
      'Review this function:\n```ts\nexport function windowIndex(kind: WindowKind, t: number): number {\n  if (kind === "minute") return Math.floor(t / 60_000);\n' +
        '  if (kind === "day") return Math.floor(t / 86_400_000);\n  const d = new Date(t);\n  return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();\n}\n```',
    ),
  },
  {
    name: 'JSON data',
    messages: user(
      'Extract the total: ' +
        JSON.stringify({
          order: {
            id: 'ord_81723',
            items: [
              { sku: 'A-100', qty: 2, price: 19.99 },
              { sku: 'B-220', qty: 1, price: 5.49 },
              { sku: 'C-310', qty: 4, price: 2.25 },
            ],
            currency: 'EUR',
            customer: { id: 'cus_991', country: 'DE' },
          },
        }),
    ),
  },
  {
    name: 'German prose',
    messages: user(
      'Bitte fasse den folgenden Absatz zusammen: Die Überprüfung der Zugangsschlüssel erfolgt bei jeder Anfrage, wobei Ergebnisse für wenige Sekunden zwischengespeichert werden, damit widerrufene Schlüssel schnell ungültig werden.',
    ),
  },
  { name: 'Chinese prose', messages: user('请用一句话总结：网关在每个请求之前预留估计的令牌数量，并在请求结束后根据提供商报告的实际用量进行结算。') },
];
