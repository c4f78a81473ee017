/**
 * Shared set-up for the limits tests: a real local gateway on dynalite, a fake OpenAI upstream,
 * a controllable clock (window tests never sleep), and helpers to read the counters.
 */
import type { ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../../lambda/core/config';
import { type FakeUpstream, json, openAiCompletion, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import type { LocalGatewayOptions } from '../../../lambda/adapters/local-gateway';
import { estimatePromptTokens } from '../../../lambda/core/tokens';
import type { ChatRequest } from '../../../lambda/providers/types';

/** A clock the test moves by hand. Starts mid-minute so a test's requests share one window. */
export class TestClock {
  constructor(public t = Date.UTC(2026, 0, 15, 10, 0, 5)) {}
  readonly now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
  set(iso: string) {
    this.t = Date.parse(iso);
  }
}

export function limitsConfig(upstreamUrl: string, extra: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    providers: { up: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } } },
    models: {
      'gpt-4o': { targets: [{ provider: 'up', model: 'gpt-4o' }] },
      priced: { targets: [{ provider: 'up', model: 'priced-model' }] },
      // A fallback five times the primary's price: the reservation must cover whichever serves.
      'priced-with-fallback': {
        targets: [
          { provider: 'up', model: 'priced-model' },
          { provider: 'up', model: 'pricier-model' },
        ],
      },
    },
    // $1000 per million tokens = $0.001 per token: budgets move in visible steps.
    pricing: { 'priced-model': { input: 1000, output: 1000 }, 'pricier-model': { input: 5000, output: 5000 } },
    ...extra,
  };
}

export interface LimitsHarness {
  gw: TestGateway;
  upstream: FakeUpstream;
  clock: TestClock;
  close(): Promise<void>;
}

export async function startLimitsHarness(extra: Partial<GatewayConfig> = {}, options: Partial<LocalGatewayOptions> = {}): Promise<LimitsHarness> {
  const upstream = await startFakeUpstream((_req, res) => json(res, 200, openAiCompletion('ok')));
  const clock = new TestClock();
  const gw = await startTestGateway(limitsConfig(upstream.url, extra), {
    env: { UP_KEY: 'sk-up' },
    ...options,
    overrides: { now: clock.now, ...options.overrides },
  });
  return {
    gw,
    upstream,
    clock,
    async close() {
      await gw.close();
      await upstream.close();
    },
  };
}

export const PROMPT = [{ role: 'user', content: 'x'.repeat(40) }];
/** What the gateway reserves for PROMPT's input (16 tokens today). */
export const PROMPT_ESTIMATE = estimatePromptTokens({ model: 'gpt-4o', messages: PROMPT } as ChatRequest);

export function chat(gw: TestGateway, key: string, body: Record<string, unknown> = {}) {
  return gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: PROMPT, max_tokens: 100, ...body }, key);
}

export async function usage(gw: TestGateway, id: string): Promise<any> {
  const res = await gw.admin('GET', `/admin/keys/${id}/usage`);
  if (res.status !== 200) throw new Error(`usage failed: ${JSON.stringify(res.body)}`);
  return res.body.usage;
}

/** Resolves after `n` calls; lets a fake upstream hold answers until the test opens the gate. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

export function answer(res: ServerResponse, usageTokens: { prompt_tokens: number; completion_tokens: number }) {
  json(res, 200, openAiCompletion('ok', 'gpt-4o', { ...usageTokens, total_tokens: usageTokens.prompt_tokens + usageTokens.completion_tokens }));
}

/** Poll a condition that an asynchronous step (a settle after a stream ends) makes true. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}
