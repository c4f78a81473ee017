/**
 * A provider without a credential is named at start-up and answered clearly: a warning per
 * provider whose key is missing, and `502 provider_credentials_unavailable` naming the provider and
 * what to set, locally (environment) as on AWS (Secrets Manager), while a fallback target still
 * serves. HOST picks the listen address; anything but loopback is warned about.
 */
import type { Logger } from '../../lambda/core/ports';
import { SecretsManagerSecretSource } from '../../lambda/adapters/secrets-manager';
import { PLACEHOLDER_SECRET_VALUE } from '../../lambda/contract/env';
import { exposureWarning, isLoopback } from '../../lambda/adapters/startup-checks';
import { type FakeUpstream, json, openAiCompletion, startFakeUpstream } from '../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import { CapturingLogSink } from './routing/harness';

function capturingLogger(warnings: string[]): Logger {
  return { debug() {}, info() {}, error() {}, warn: (m) => void warnings.push(m) };
}

describe('a provider with no credential', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const warnings: string[] = [];
  const logs = new CapturingLogSink();

  beforeAll(async () => {
    upstream = await startFakeUpstream((_req, res) => json(res, 200, openAiCompletion('should never be called')));
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_API_KEY' } },
          anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { secret: 'prod/anthropic' } },
          mock: { type: 'mock' },
        },
        models: {
          'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
          resilient: {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'mock', model: 'mock-model' },
            ],
          },
        },
      },
      { env: {}, logger: capturingLogger(warnings), overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey());
  });

  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('start-up warns once per provider whose key is missing, naming what to set; keyless providers are not named', () => {
    const credentialWarnings = warnings.filter((w) => w.includes('has no credential'));
    expect(credentialWarnings).toHaveLength(2);
    expect(credentialWarnings[0]).toMatch(/provider 'openai' has no credential: set the environment variable OPENAI_API_KEY/);
    expect(credentialWarnings[1]).toMatch(
      /provider 'anthropic' has no credential: set the environment variable GATEWAY_SECRET_PROD_ANTHROPIC \(the local stand-in for the secret 'prod\/anthropic'\)/,
    );
    expect(credentialWarnings.join()).not.toContain("'mock'");
  });

  test.each([
    ['gpt-4o', 'openai', 'OPENAI_API_KEY'],
    ['claude', 'anthropic', 'GATEWAY_SECRET_PROD_ANTHROPIC'],
  ])('a call to %s answers 502 provider_credentials_unavailable naming %s and %s; nothing is sent upstream', async (model, provider, variable) => {
    upstream.received.length = 0;
    const res = await gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, key);
    const body = await res.json();
    expect(res.status).toBe(502);
    expect(body.error.code).toBe('provider_credentials_unavailable');
    expect(body.error.message).toContain(`provider '${provider}'`);
    expect(body.error.message).toContain(variable);
    expect(upstream.received).toHaveLength(0);
    const record = await logs.record(res.headers.get('x-request-id')!);
    expect(record).toMatchObject({ status: 502, error_code: 'provider_credentials_unavailable' });
  });

  test('a route with a fallback is still served by the target that has what it needs', async () => {
    const res = await gw.post('/v1/chat/completions', { model: 'resilient', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('mock');
  });
});

test('on AWS the same answer names the Secrets Manager secret still holding its placeholder', async () => {
  const secrets = new SecretsManagerSecretSource({ read: async () => PLACEHOLDER_SECRET_VALUE });
  const gw = await startTestGateway(
    {
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: { secret: 'prod/openai' } } },
      models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
    },
    { overrides: { secrets } },
  );
  try {
    const { key } = await gw.createKey();
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, key);
    const body = await res.json();
    expect(res.status).toBe(502);
    expect(body.error.code).toBe('provider_credentials_unavailable');
    expect(body.error.message).toMatch(/provider 'openai' has no credential: secret prod\/openai holds no API key yet/);
  } finally {
    await gw.close();
  }
});

describe('HOST', () => {
  test('sets the listen address (any 127.0.0.0/8 address is loopback: no warning)', async () => {
    const warnings: string[] = [];
    const gw = await startTestGateway({ providers: { mock: { type: 'mock' } } }, { env: { HOST: '127.0.0.2' }, logger: capturingLogger(warnings) });
    try {
      expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      expect((await fetch(`${gw.url}/health`)).status).toBe(200);
      expect(warnings.filter((w) => w.includes('not loopback'))).toEqual([]);
    } finally {
      await gw.close();
    }
  });

  test('defaults to 127.0.0.1', async () => {
    const gw = await startTestGateway({ providers: { mock: { type: 'mock' } } }, { env: {} });
    try {
      expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await gw.close();
    }
  });

  test.each(['0.0.0.0', '::', '192.168.1.20', 'gateway.internal'])('%s is not loopback: the warning says to protect the admin API and the store', (host) => {
    expect(isLoopback(host)).toBe(false);
    const warning = exposureWarning(host, '/srv/gw')!;
    expect(warning).toContain(`listening on ${host}, not loopback`);
    expect(warning).toContain('admin API');
    expect(warning).toContain('GATEWAY_ADMIN_TOKEN');
    expect(warning).toContain('/srv/gw');
  });

  test.each(['127.0.0.1', '127.1.2.3', '::1', 'localhost'])('%s is loopback: no warning', (host) => {
    expect(exposureWarning(host, '/srv/gw')).toBeUndefined();
  });
});
