/** `ai-gateway logs` and `ai-gateway usage` over local JSONL logs written by the real file sink. */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords } from '../../../bin/cli/log-reader';
import { LogFollower, formatRecord, logsCommand, parseSince, recordFilter, tailRecords } from '../../../bin/cli/logs';
import { usageByKeyPerDay } from '../../../bin/cli/usage';
import { FileLogSink } from '../../../lambda/adapters/file-log-sink';
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import { startTestGateway } from '../../helpers/gateway';
import { sampleRecord } from './sample-record';

// The .ts source, not bin/ai-gateway.js (the launcher of the prebuilt bundle, which jest would pick first).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('../../../bin/ai-gateway.ts') as typeof import('../../../bin/ai-gateway');

function rec(id: string, o: Partial<RequestLogRecord>): RequestLogRecord {
  return { ...sampleRecord(id), ...o };
}

const alice = { key_id: 'key_a', key_name: 'alice-app', team: 'red' };
const bob = { key_id: 'key_b', key_name: 'bob-app', team: 'blue' };
const ok = (tokens: [number, number], cost: number | null) => ({
  status: 200,
  provider: 'openai',
  model: 'gpt-4o',
  prompt_tokens: tokens[0],
  completion_tokens: tokens[1],
  total_tokens: tokens[0] + tokens[1],
  cost_usd: cost,
});

const RECORDS: RequestLogRecord[] = [
  rec('r1', { ...alice, ...ok([100, 50], 0.001), ts: '2026-11-23T10:00:00.000Z' }),
  rec('r2', { ...alice, ...ok([10, 5], 0.0001), ts: '2026-11-24T09:00:00.000Z', requested_model: 'smart', stream: true }),
  rec('r3', { ...bob, ...ok([1000, 500], 0.02), ts: '2026-11-24T09:30:00.000Z' }),
  rec('r4', { ...bob, status: 502, error_code: 'upstream_error', ts: '2026-11-24T10:00:00.000Z', attempts: '[{"provider":"a"},{"provider":"b"}]' }),
  rec('r5', { ...bob, ...ok([7, 3], null), model: 'my-local-model', provider: 'ollama', requested_model: 'my-local-model', ts: '2026-11-24T10:30:00.000Z' }),
  rec('r6', { key_id: null, key_name: null, team: null, status: 401, error_code: 'invalid_api_key', ts: '2026-11-24T11:00:00.000Z' }),
  rec('r7', { ...alice, status: 429, error_code: 'rate_limit_exceeded', ts: '2026-11-24T11:30:00.000Z' }),
];

describe('local log CLI', () => {
  let dir: string;
  let logsDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
    logsDir = join(dir, 'logs');
    const sink = new FileLogSink(logsDir);
    for (const r of RECORDS) await sink.write(r);
    await sink.write(RECORDS[2]); // delivered twice (at-least-once): counted once
    await sink.close();
    appendFileSync(join(logsDir, 'dt=2026-11-24', `requests-${process.pid}.jsonl`), '{"request_id":"torn'); // a crash mid-append
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads every record once, in time order, across date partitions, skipping a torn line', () => {
    expect(readRecords(logsDir).map((r) => r.request_id)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
  });

  test('tail: the last N records', () => {
    expect(tailRecords(logsDir, {}, 2).map((r) => r.request_id)).toEqual(['r6', 'r7']);
  });

  test.each([
    [{ key: 'bob-app' }, ['r3', 'r4', 'r5']],
    [{ key: 'key_a' }, ['r1', 'r2', 'r7']],
    [{ model: 'gpt-4*' }, ['r1', 'r2', 'r3', 'r4', 'r6', 'r7']],
    [{ model: 'smart' }, ['r2']],
    [{ model: 'ollama/*' }, ['r5']],
    [{ status: '5xx' }, ['r4']],
    [{ status: 'error' }, ['r4', 'r6', 'r7']],
    [{ status: '401,429' }, ['r6', 'r7']],
    [{ status: 'ok', key: 'alice-app' }, ['r1', 'r2']],
    [{ since: '2026-11-24T10:00:00Z' }, ['r4', 'r5', 'r6', 'r7']],
  ])('filter %j', (filter, ids) => {
    expect(tailRecords(logsDir, filter, 0).map((r) => r.request_id)).toEqual(ids);
  });

  test('relative --since and bad filters', () => {
    expect(parseSince('2h', Date.parse('2026-11-24T12:00:00Z'))).toBe('2026-11-24T10:00:00.000Z');
    expect(tailRecords(logsDir, { since: '90m' }, 0, Date.parse('2026-11-24T12:00:00Z')).map((r) => r.request_id)).toEqual(['r5', 'r6', 'r7']);
    expect(() => recordFilter({ status: '2x' })).toThrow(/--status/);
    expect(() => recordFilter({ since: 'yesterday' })).toThrow(/--since/);
  });

  test('one readable line per request', () => {
    const line = formatRecord(RECORDS[3]);
    for (const part of ['2026-11-24 10:00:00.000', '502', 'bob-app', '2 attempts', 'r4', 'upstream_error']) expect(line).toContain(part);
    const routed = formatRecord(RECORDS[1]);
    expect(routed).toContain('smart → openai/gpt-4o');
    expect(routed).toContain('10+5 tok');
    expect(routed).toContain('$0.000100');
    expect(routed).toContain('stream');
  });

  test('usage: tokens and spend per key per day, errors counted, unpriced flagged, unauthenticated requests excluded', () => {
    expect(usageByKeyPerDay(readRecords(logsDir))).toEqual([
      {
        day: '2026-11-24',
        key_id: 'key_b',
        key_name: 'bob-app',
        team: 'blue',
        requests: 3,
        errors: 1,
        prompt_tokens: 1007,
        completion_tokens: 503,
        total_tokens: 1510,
        cost_usd: 0.02,
        unpriced: 1,
      },
      {
        day: '2026-11-24',
        key_id: 'key_a',
        key_name: 'alice-app',
        team: 'red',
        requests: 2,
        errors: 1,
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        cost_usd: 0.0001,
        unpriced: 0,
      },
      {
        day: '2026-11-23',
        key_id: 'key_a',
        key_name: 'alice-app',
        team: 'red',
        requests: 1,
        errors: 0,
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        cost_usd: 0.001,
        unpriced: 0,
      },
    ]);
  });

  test('--follow prints records appended after it started, and only matching ones', async () => {
    const follower = new LogFollower(logsDir, recordFilter({ key: 'bob-app' }).matches);
    expect(follower.poll()).toEqual([]);
    const file = join(logsDir, 'dt=2026-11-24', 'requests-other.jsonl');
    appendFileSync(file, '\n' + JSON.stringify(rec('n1', { ...bob, ts: '2026-11-24T12:00:00.000Z' })) + '\n' + JSON.stringify(rec('n2', { ...alice })) + '\n');
    const half = JSON.stringify(rec('n3', { ...bob, ts: '2026-11-24T12:01:00.000Z' }));
    appendFileSync(file, half.slice(0, 20));
    expect(follower.poll().map((r) => r.request_id)).toEqual(['n1']);
    appendFileSync(file, half.slice(20) + '\n');
    expect(follower.poll().map((r) => r.request_id)).toEqual(['n3']);
    expect(follower.poll()).toEqual([]);

    // The command itself: prints the tail, then what arrives, until stopped.
    const stop = new AbortController();
    const lines: string[] = [];
    let arrived!: () => void;
    const gotNew = new Promise<void>((r) => (arrived = r));
    const running = logsCommand({
      logsDir,
      filter: { key: 'bob-app' },
      limit: 1,
      json: true,
      follow: true,
      pollMs: 5,
      signal: stop.signal,
      print: (l) => {
        lines.push(l);
        if (l.includes('"n4"')) arrived();
      },
    });
    appendFileSync(file, JSON.stringify(rec('n4', { ...bob, ts: '2026-11-24T12:02:00.000Z' })) + '\n');
    await gotNew;
    stop.abort();
    await running;
    expect(lines.map((l) => JSON.parse(l).request_id)).toEqual(['n3', 'n4']);
  });
});

describe('ai-gateway logs / usage commands on a real gateway run', () => {
  test('what the gateway logged is what the commands report', async () => {
    const gw = await startTestGateway({
      providers: { mock: { type: 'mock' } },
      models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } },
    });
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const a = await gw.createKey({ name: 'cli-a', team: 'x' });
      const b = await gw.createKey({ name: 'cli-b' });
      for (const [key, text] of [
        [a.key, 'one'],
        [a.key, 'two two'],
        [b.key, 'three three three'],
      ])
        expect((await gw.post('/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: text }] }, key)).status).toBe(200);
      expect((await gw.post('/v1/chat/completions', { model: 'mock-model', messages: [] }, 'sk-gw-wrong')).status).toBe(401);
      await gw.gateway.flush();

      expect(await main(['usage', '--data-dir', gw.dataDir, '--json'])).toBe(0);
      const rows = JSON.parse(out.join('\n'));
      const logged = readRecords(join(gw.dataDir, 'logs'));
      const sum = (id: string, f: 'total_tokens' | 'cost_usd') => logged.filter((r) => r.key_id === id).reduce((s, r) => s + (r[f] ?? 0), 0);
      expect(rows).toHaveLength(2);
      const rowA = rows.find((r: { key_id: string }) => r.key_id === a.id);
      expect(rowA).toMatchObject({ key_name: 'cli-a', team: 'x', requests: 2, errors: 0, total_tokens: sum(a.id, 'total_tokens') });
      expect(rowA.total_tokens).toBeGreaterThan(0);
      expect(rowA.cost_usd).toBeCloseTo(sum(a.id, 'cost_usd'), 10);
      expect(rowA.cost_usd).toBeGreaterThan(0);

      out.length = 0;
      expect(await main(['logs', '--data-dir', gw.dataDir, '--json', '--status', 'error'])).toBe(0);
      expect(out.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ status: 401, error_code: 'invalid_api_key', key_id: null })]);

      out.length = 0;
      expect(await main(['logs', '--data-dir', gw.dataDir, '--key', 'cli-b'])).toBe(0);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/200 +cli-b +mock\/mock-model +\d+\+\d+ tok/);

      expect(await main(['logs', '--data-dir', gw.dataDir, '--status', 'bad'])).toBe(2);
    } finally {
      log.mockRestore();
      err.mockRestore();
      await gw.close();
    }
  });
});

test('a line names the route only when the requested model differs from what served it', () => {
  expect(formatRecord(rec('x', { ...ok([1, 1], 0), requested_model: 'gpt-4o' }))).toContain(' openai/gpt-4o ');
  expect(formatRecord(rec('x', { ...ok([1, 1], 0), requested_model: 'openai/gpt-4o' }))).not.toContain('→');
  const rejected = formatRecord(rec('y', { status: 404, requested_model: 'nope', error_code: 'model_not_found' }));
  expect(rejected).toMatch(/404 +- +nope +- /);
});
