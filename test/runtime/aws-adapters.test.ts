/**
 * The thin AWS adapters beside the streaming handler: the Secrets Manager source (a stubbed
 * GetSecretValue, as no local Secrets Manager exists) and the deferred log sink.
 */
import { DeferredLogSink } from '../../lambda/adapters/deferred-log-sink';
import { EmfMetrics } from '../../lambda/adapters/emf-metrics';
import { PLACEHOLDER_SECRET_VALUE } from '../../lambda/contract/env';
import { SecretsManagerSecretSource } from '../../lambda/adapters/secrets-manager';
import type { LogSink, RequestLogRecord } from '../../lambda/core/log-record';
import { silentLogger } from '../../lambda/core/ports';
import { sampleRecord } from './logging/sample-record';

describe('SecretsManagerSecretSource', () => {
  function source(values: Record<string, string | Error>, now = () => 0) {
    const reads: string[] = [];
    const logged: string[] = [];
    const src = new SecretsManagerSecretSource({
      read: async (id) => {
        reads.push(id);
        const v = values[id];
        if (v instanceof Error) throw v;
        return v;
      },
      ttlMs: 1000,
      now,
      env: { OPENAI_KEY: 'from-env' },
      logger: { ...silentLogger, error: (m, d) => void logged.push(`${m}: ${d?.error}`) },
    });
    return { src, reads, logged };
  }

  test('caches a value, shares one read among concurrent requests, reads again after the TTL', async () => {
    let t = 0;
    const { src, reads } = source({ 'prod/openai': 'sk-1' }, () => t);
    const [a, b] = await Promise.all([src.get({ secret: 'prod/openai' }), src.get({ secret: 'prod/openai' })]);
    expect([a, b]).toEqual(['sk-1', 'sk-1']);
    expect(reads).toEqual(['prod/openai']);
    t = 1001;
    await src.get({ secret: 'prod/openai' });
    expect(reads).toHaveLength(2);
  });

  test('refresh(ref) drops the cached value so a rotated key is read at once', async () => {
    const values: Record<string, string> = { s: 'old' };
    const { src } = source(values);
    expect(await src.get({ secret: 's' })).toBe('old');
    values.s = 'new';
    expect(await src.get({ secret: 's' })).toBe('old');
    src.refresh({ secret: 's' });
    expect(await src.get({ secret: 's' })).toBe('new');
  });

  test('errors name the secret, never a value, and are not cached; the placeholder is refused', async () => {
    const values: Record<string, string | Error> = {
      broken: Object.assign(new Error('secret sk-leak'), { name: 'AccessDeniedException' }),
      empty: PLACEHOLDER_SECRET_VALUE,
    };
    const { src, reads, logged } = source(values);
    await expect(src.get({ secret: 'broken' })).rejects.toThrow(/^reading secret broken failed: AccessDeniedException$/);
    await expect(src.get({ secret: 'broken' })).rejects.toThrow();
    expect(reads.filter((r) => r === 'broken')).toHaveLength(2);
    await expect(src.get({ secret: 'empty' })).rejects.toThrow(/secret empty holds no API key yet/);
    // The operator sees why in the function's log; no secret value appears there.
    expect(logged).toContain(
      'provider credential unavailable: secret empty holds no API key yet; put the provider\'s API key into it (README "Deploy to AWS")',
    );
    expect(logged.join()).not.toContain('sk-leak');
  });

  test('env refs read the environment', async () => {
    const { src, reads } = source({});
    expect(await src.get({ env: 'OPENAI_KEY' })).toBe('from-env');
    await expect(src.get({ env: 'MISSING' })).rejects.toThrow('set the environment variable MISSING');
    expect(reads).toEqual([]);
  });
});

describe('DeferredLogSink', () => {
  function recordingSink() {
    const written: string[] = [];
    let flushes = 0;
    const sink: LogSink = { write: (r: RequestLogRecord) => void written.push(r.request_id), flush: async () => void flushes++ };
    return { sink, written, flushes: () => flushes };
  }

  test('loads the real sink on the first flush only, handing over earlier records in order', async () => {
    const real = recordingSink();
    let loads = 0;
    const deferred = new DeferredLogSink(async () => {
      loads++;
      return real.sink;
    });
    deferred.write(sampleRecord('a'));
    deferred.write(sampleRecord('b'));
    expect(loads).toBe(0);
    await deferred.flush();
    deferred.write(sampleRecord('c'));
    await deferred.flush();
    expect(loads).toBe(1);
    expect(real.written).toEqual(['a', 'b', 'c']);
    expect(real.flushes()).toBe(2);
  });

  test('a failed load keeps the records for the next flush', async () => {
    const real = recordingSink();
    let fail = true;
    const deferred = new DeferredLogSink(async () => {
      if (fail) throw new Error('no sdk');
      return real.sink;
    });
    deferred.write(sampleRecord('kept'));
    await deferred.flush();
    expect(real.written).toEqual([]);
    fail = false;
    await deferred.flush();
    expect(real.written).toEqual(['kept']);
  });
});

describe('EmfMetrics', () => {
  function sink() {
    const lines: string[] = [];
    const publisher = new EmfMetrics({ gatewayId: 'gw-1', writeLine: (l) => void lines.push(l) });
    const emf = { write: (record: RequestLogRecord, events = { fellBack: false, skippedCooling: false }) => publisher.publish({ record, ...events }) };
    return { emf, lines };
  }

  test('one EMF document per request, with the served model as dimension and the fallback the router noted', async () => {
    const { emf, lines } = sink();
    const record = {
      ...sampleRecord('r1'),
      status: 200,
      provider: 'openai',
      model: 'gpt-4o',
      total_tokens: 42,
      cost_usd: 0.0021,
      latency_ms: 830,
      attempts: JSON.stringify([
        { provider: 'azure', model: 'gpt-4o', status: 503, latency_ms: 40, error: 'http: HTTP 503' },
        { provider: 'openai', model: 'gpt-4o', status: 200, latency_ms: 790 },
      ]),
    };
    emf.write(record, { fellBack: true, skippedCooling: false });
    const doc = JSON.parse(lines[0]);
    expect(doc._aws.CloudWatchMetrics[0]).toEqual(expect.objectContaining({ Namespace: 'AiGateway', Dimensions: [['Gateway'], ['Gateway', 'Model']] }));
    expect(doc._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'Requests',
      'Errors',
      'Tokens',
      'CostUsd',
      'LatencyMs',
      'Fallbacks',
      'CooldownSkips',
      'CacheHits',
      'CacheMisses',
      'CacheSavedUsd',
      'CacheErrors',
    ]);
    expect(doc).toEqual(
      expect.objectContaining({
        Gateway: 'gw-1',
        Model: 'openai/gpt-4o',
        Requests: 1,
        Errors: 0,
        Tokens: 42,
        CostUsd: 0.0021,
        LatencyMs: 830,
        Fallbacks: 1,
        CooldownSkips: 0,
      }),
    );
  });

  test('a request the router noted as passing over a cooling (or probed) target counts as a cooldown skip; a fallback as a fallback', () => {
    const { emf, lines } = sink();
    emf.write({ ...sampleRecord('s1'), status: 200 }, { fellBack: true, skippedCooling: true });
    emf.write({ ...sampleRecord('s2'), status: 200 }, { fellBack: true, skippedCooling: false });
    emf.write({ ...sampleRecord('s3'), status: 200 }, { fellBack: false, skippedCooling: false });
    expect(lines.map((l) => JSON.parse(l)).map((d) => [d.CooldownSkips, d.Fallbacks])).toEqual([
      [1, 1],
      [0, 1],
      [0, 0],
    ]);
  });

  test('the cache metrics: a hit (exact or semantic) with its saving, a miss, and a bypassed failure', () => {
    const { emf, lines } = sink();
    emf.write({ ...sampleRecord('c1'), status: 200, cache: 'hit', cost_usd: 0, cache_saved_usd: 0.004 });
    emf.write({ ...sampleRecord('c2'), status: 200, cache: 'semantic-hit', cache_similarity: 0.97, cost_usd: 0, cache_saved_usd: 0.002 });
    emf.write({ ...sampleRecord('c3'), status: 200, cache: 'miss' });
    emf.write({ ...sampleRecord('c4'), status: 200, cache: 'bypass', cache_error: 'store_unavailable' });
    emf.write({ ...sampleRecord('c5'), status: 200, cache: 'bypass' }); // asked for by the client: no error
    expect(lines.map((l) => JSON.parse(l)).map((d) => [d.CacheHits, d.CacheMisses, d.CacheSavedUsd, d.CacheErrors])).toEqual([
      [1, 0, 0.004, 0],
      [1, 0, 0.002, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ]);
  });

  test('failed requests never turn client-chosen model names into dimensions, and no key, team or body is in the line', () => {
    const { emf, lines } = sink();
    const record = {
      ...sampleRecord('r2', { request: 'secret prompt', response: 'secret answer' }),
      status: 404,
      provider: null,
      model: null,
      requested_model: 'made-up-model-123',
      key_id: 'key_abc',
      team: 'team-x',
    };
    emf.write(record);
    const doc = JSON.parse(lines[0]);
    expect(doc.Model).toBe('none');
    expect(lines[0]).not.toMatch(/made-up-model|key_abc|team-x|secret prompt|secret answer/);
    emf.write({ ...record, status: 502 });
    expect(JSON.parse(lines[1]).Errors).toBe(1);
  });
});
