/**
 * The usage rollups on a real DynamoDB-compatible store: a key's counters stay on every day's row,
 * while its recent-request slots live only on its latest row (a new day's first write retires the
 * previous row's), so a 90-day read carries counters, not 90 days of request metadata.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { addToBatch, newBatch, type RowIncrement } from '../../../lambda/core/usage/rollups';
import { DynamoUsageRollups, scopePk } from '../../../lambda/stores/dynamo-usage-rollups';
import { ensureTables } from '../../../lambda/stores/ensure-tables';
import { type LocalDynamo, startDynalite } from '../../helpers/dynalite';

const tables = { keys: 'keys', counters: 'counters', usage: 'usage' };
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
  await ensureTables(dynamo.client, tables);
});
afterAll(() => dynamo.close());

const inc = (day: string, keyId: string, id: string, team: string | null = 'team-a'): RowIncrement => ({
  day,
  keyId,
  keyName: keyId,
  team,
  requests: 1,
  errors: 0,
  promptTokens: 10,
  completionTokens: 5,
  costNanoUsd: 1000,
  cacheHits: 0,
  cacheSavedNanoUsd: 0,
  model: 'openai/gpt-4o',
  recent: {
    id,
    ts: `${day}T10:00:00.000Z`,
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o',
    status: 200,
    latencyMs: 5,
    tokens: 15,
    costUsd: 0.000001,
    cache: null,
    stream: false,
  },
});

const batchOf = (...incs: RowIncrement[]) => {
  const b = newBatch(incs[0]);
  for (const i of incs) addToBatch(b, i);
  return b;
};

async function slotNames(pk: string, sk: string): Promise<string[] | undefined> {
  const out = await dynamo.client.send(new GetItemCommand({ TableName: tables.usage, Key: { pk: { S: pk }, sk: { S: sk } } }));
  return out.Item ? Object.keys(out.Item).filter((n) => n.startsWith('r:')) : undefined;
}

describe('usage rollup rows', () => {
  it("a new day's first write retires the previous row's recent slots and keeps its counters", async () => {
    const rollups = new DynamoUsageRollups(dynamo.client, tables.usage);
    await rollups.add(batchOf(inc('2026-03-01', 'k1', 'a'), inc('2026-03-01', 'k1', 'b')));
    expect(await slotNames('team#team-a', '2026-03-01#k1')).toHaveLength(2);
    await rollups.add(batchOf(inc('2026-03-02', 'k1', 'c')));
    expect(await slotNames('team#team-a', '2026-03-01#k1')).toEqual([]);
    expect(await slotNames('team#team-a', '2026-03-02#k1')).toEqual(['r:0']);

    const rows = await rollups.query({ fromDay: '2026-03-01', toDay: '2026-03-02', team: 'team-a' });
    expect(rows.map((r) => [r.day, r.requests, r.promptTokens, r.recent.map((x) => x.id)])).toEqual([
      ['2026-03-01', 2, 20, []],
      ['2026-03-02', 1, 10, ['c']],
    ]);
  });

  it('a process new to a key retires the calendar day before, and never creates a row that did not exist', async () => {
    const first = new DynamoUsageRollups(dynamo.client, tables.usage);
    await first.add(batchOf(inc('2026-04-10', 'k2', 'x')));
    // Another process (a new Lambda container) writes the next day: it has no memory of the 10th.
    const second = new DynamoUsageRollups(dynamo.client, tables.usage);
    await second.add(batchOf(inc('2026-04-11', 'k2', 'y')));
    expect(await slotNames('team#team-a', '2026-04-10#k2')).toEqual([]);
    // A key idle the day before: nothing to retire, and no empty row appears for that day.
    await second.add(batchOf(inc('2026-04-20', 'k3', 'z', null)));
    expect(await slotNames(scopePk(null, 'k3'), '2026-04-19#k3')).toBeUndefined();
    expect(await slotNames(scopePk(null, 'k3'), '2026-04-20#k3')).toEqual(['r:0']);
  });

  it('more batches of the same day add to the row and keep its newest slots', async () => {
    const rollups = new DynamoUsageRollups(dynamo.client, tables.usage);
    await rollups.add(batchOf(inc('2026-05-01', 'k4', 'p')));
    await rollups.add(batchOf(inc('2026-05-01', 'k4', 'q')));
    const [row] = await rollups.query({ fromDay: '2026-05-01', toDay: '2026-05-01', team: 'team-a', keyId: 'k4' });
    expect(row.requests).toBe(2);
    expect(row.recent.map((r) => r.id).sort()).toEqual(['p', 'q']);
  });
});
