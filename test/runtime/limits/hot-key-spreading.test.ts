/** A key whose rpm allows more than one counters item can take is spread over several items. */
import { createDynamoLimiter } from '../../../lambda/stores/dynamo-limiter';
import { shardCount, shardLimits } from '../../../lambda/core/limits/shards';
import { TestClock, answer, chat, startLimitsHarness, usage, type LimitsHarness } from './harness';

test('shard count follows the rpm limit, capped at 16; each shard enforces its share', () => {
  expect(shardCount({ tpm: 10_000_000 })).toBe(1);
  expect(shardCount({ rpm: 6_000 })).toBe(1);
  expect(shardCount({ rpm: 6_001 })).toBe(2);
  expect(shardCount({ rpm: 60_000 })).toBe(10);
  expect(shardCount({ rpm: 10_000_000 })).toBe(16);
  expect(shardLimits({ rpm: 40, tpm: 1000, budgetUsd: { amount: 10, period: 'day' } }, 4)).toEqual({
    rpm: 10,
    tpm: 250,
    tokensPerDay: undefined,
    budgetUsd: { amount: 2.5, period: 'day' },
  });
});

describe('a spread key on dynalite', () => {
  let h: LimitsHarness;
  const sent: { name: string; pk?: string }[] = [];
  let turn = 0;
  beforeAll(async () => {
    const clock = new TestClock();
    // Round-robin instead of random, so every shard sees the same number of requests.
    const roundRobin = () => ((turn++ % 4) + 0.5) / 4;
    h = await startLimitsHarness(
      {},
      {
        overrides: { now: clock.now },
        limiter: (client, table) => createDynamoLimiter({ client, tableName: table, now: clock.now, rpmPerShard: 10, random: roundRobin }),
      },
    );
    h.upstream.handle((_req, res) => answer(res, { prompt_tokens: 5, completion_tokens: 5 }));
    h.gw.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string; Key?: { pk?: { S?: string } } };
        // Counter operations only: usage rollups are written after the answer, to their own table.
        if (input.TableName !== h.gw.tables.usage) sent.push({ name: context.commandName ?? '?', pk: input.Key?.pk?.S });
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
  });
  afterAll(() => h.close());

  test('requests spread over 4 items, still 2 writes each, and the total admitted equals the rpm limit', async () => {
    const { key, id } = await h.gw.createKey({ limits: { rpm: 40 } });
    expect((await chat(h.gw, key)).status).toBe(200); // warm the key cache
    sent.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 59; i++) statuses.push((await chat(h.gw, key)).status);
    const admitted = statuses.filter((s) => s === 200).length + 1;
    expect(admitted).toBe(40);
    expect(statuses.filter((s) => s === 429).length).toBe(20);
    const counterWrites = sent.filter((c) => c.name === 'UpdateItemCommand');
    expect(new Set(counterWrites.map((c) => c.pk))).toEqual(new Set([`lim#key#${id}`, `lim#key#${id}#1`, `lim#key#${id}#2`, `lim#key#${id}#3`]));
    // Admitted requests cost reserve + settle; a refusal one failed write (and, on dynalite only, one read).
    expect(counterWrites.length).toBe(39 * 2 + 20);
    const u = await usage(h.gw, id);
    expect(u.rpm).toMatchObject({ limit: 40, used: 40, remaining: 0 });
    expect(u.counterItems).toBe(4);
  });
});
