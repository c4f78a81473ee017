/**
 * The set-up most provider tests share: a fake provider on 127.0.0.1, the local gateway routed to
 * it, one virtual key, and the official openai client calling the gateway with that key.
 */
import OpenAI from 'openai';
import type { GatewayConfig } from '../../lambda/core/config';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream';
import { startTestGateway, type TestGateway } from './gateway';

export interface OpenAiHarness {
  readonly upstream: FakeUpstream;
  readonly gw: TestGateway;
  readonly key: string;
  readonly client: OpenAI;
}

export interface OpenAiHarnessOptions {
  /** Name of the virtual key the client uses. */
  readonly keyName: string;
  /** The gateway's environment (provider keys read with `{ env: … }`). */
  readonly env?: Record<string, string>;
  /** Starts the fake provider; startFakeUpstream unless given. */
  readonly startUpstream?: () => Promise<FakeUpstream>;
}

/** Start the fake provider, then the gateway with `config(upstream.url)`, issue a key and build the client. */
export async function startOpenAiHarness(config: (upstreamUrl: string) => GatewayConfig, opts: OpenAiHarnessOptions): Promise<OpenAiHarness> {
  const upstream = await (opts.startUpstream ?? startFakeUpstream)();
  const gw = await startTestGateway(config(upstream.url), { env: opts.env ?? {} });
  const { key } = await gw.createKey({ name: opts.keyName });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  return { upstream, gw, key, client };
}

/** A chat stream read to its end: the content, the finish reason, and how many chunks carried tool calls. */
export async function readChatStream(
  stream: AsyncIterable<{ choices: Array<{ delta?: { content?: string | null; tool_calls?: unknown[] }; finish_reason?: string | null }> }>,
) {
  let content = '';
  let finish: string | null = null;
  let toolCallChunks = 0;
  for await (const c of stream) {
    const choice = c.choices[0];
    if (choice?.delta?.tool_calls?.length) toolCallChunks++;
    content += choice?.delta?.content ?? '';
    finish = choice?.finish_reason ?? finish;
  }
  return { content, finish, toolCallChunks };
}
