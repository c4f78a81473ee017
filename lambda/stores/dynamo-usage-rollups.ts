/**
 * Usage rollups on DynamoDB (and dynalite): the usage table, partition key `pk` = the key's scope
 * (`team#<team>`, or `key#<id>` for a key without a team), sort key `sk` = `<YYYY-MM-DD>#<keyId>`.
 *
 *   add    ONE UpdateItem per row batch (the requests of one key and day gathered since the last
 *          write): ADD their counts, SET the row's next recent-request slots. Written after the
 *          records, never before an answer. The first batch of a new day for a key (per process)
 *          also REMOVEs the recent slots of the key's previous row, so only a key's latest row
 *          carries them: a 90-day page then reads counters only (a fraction of the bytes, one
 *          Query page), and the extra write comes once per key per day per process, not per request.
 *   query  ONE Query (paginated past 1 MB) for a key or a team over a day range; the admin's
 *          "everything" view is a Scan (the admin page only).
 *
 * Rows expire 400 days after their day (TTL attribute `expiresAt`), so 366 days can always be read.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type ModelTotals,
  NANO_PER_USD,
  RECENT_SLOTS,
  type RecentRequest,
  type RowBatch,
  type UsageQuery,
  type UsageRollups,
  type UsageRow,
} from '../core/usage/rollups';

const ROW_TTL_DAYS = 400;
const MODEL_PREFIX = 'm:';
const RECENT_PREFIX = 'r:';
/** Slot cursors kept per row in this process; cleared past this many rows (a new day starts new rows anyway). */
const MAX_TRACKED_ROWS = 10_000;

const dayBefore = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

export const scopePk = (team: string | null | undefined, keyId: string) => (team ? `team#${team}` : `key#${keyId}`);

const n = (v: number) => ({ N: String(v) });
const s = (v: string) => ({ S: v });
const num = (v: AttributeValue | undefined) => (v?.N !== undefined ? Number(v.N) : 0);

export class DynamoUsageRollups implements UsageRollups {
  /** Next recent-request slot per row, so a row's slots are overwritten oldest first. */
  private readonly slots = new Map<string, number>();
  /** The day this process last wrote for each key (scope|keyId), to clear that row's slots when a new day starts. */
  private readonly lastDay = new Map<string, string>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async add(batch: RowBatch): Promise<void> {
    if (batch.requests === 0) return;
    const previous = this.previousRowToClear(batch);
    await Promise.all([
      this.client.send(new UpdateItemCommand(this.updateFor(batch))),
      previous && this.clearRecent(scopePk(batch.team, batch.keyId), previous).catch(() => undefined),
    ]);
  }

  /**
   * The sort key of the row whose recent slots a batch of a new day retires: the day this process
   * last wrote for the key, or (a process new to the key) the calendar day before. Undefined when
   * the batch's day is not new to this process.
   */
  private previousRowToClear(b: RowBatch): string | undefined {
    const id = `${scopePk(b.team, b.keyId)}|${b.keyId}`;
    const last = this.lastDay.get(id);
    if (last !== undefined && last >= b.day) return undefined;
    if (this.lastDay.size > MAX_TRACKED_ROWS) this.lastDay.clear();
    this.lastDay.set(id, b.day);
    return `${last ?? dayBefore(b.day)}#${b.keyId}`;
  }

  /**
   * REMOVE a row's recent slots; a row that does not exist stays absent (the condition), not created
   * empty. A failure only leaves old slots that the page sorts past: it never fails the counters' write.
   */
  private async clearRecent(pk: string, sk: string): Promise<void> {
    const names: Record<string, string> = {};
    for (let i = 0; i < RECENT_SLOTS; i++) names[`#r${i}`] = `${RECENT_PREFIX}${i}`;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(pk), sk: s(sk) },
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** The row's next slots for `count` recent requests, so a row's slots are overwritten oldest first. */
  private nextSlots(rowId: string, count: number): number[] {
    if (this.slots.size > MAX_TRACKED_ROWS) this.slots.clear();
    const first = this.slots.get(rowId) ?? 0;
    this.slots.set(rowId, (first + count) % RECENT_SLOTS);
    return Array.from({ length: count }, (_, i) => (first + i) % RECENT_SLOTS);
  }

  private updateFor(b: RowBatch) {
    const pk = scopePk(b.team, b.keyId);
    const sk = `${b.day}#${b.keyId}`;
    const expiresAt = Math.floor(Date.parse(`${b.day}T00:00:00Z`) / 1000) + ROW_TTL_DAYS * 86_400;
    const names: Record<string, string> = { '#day': 'day', '#keyId': 'keyId', '#keyName': 'keyName', '#team': 'team', '#exp': 'expiresAt' };
    const values: Record<string, AttributeValue> = {
      ':day': s(b.day),
      ':keyId': s(b.keyId),
      ':keyName': s(b.keyName),
      ':team': b.team ? s(b.team) : { NULL: true },
      ':exp': n(expiresAt),
      ':req': n(b.requests),
      ':err': n(b.errors),
      ':pt': n(b.promptTokens),
      ':ct': n(b.completionTokens),
      ':cost': n(b.costNanoUsd),
      ':hit': n(b.cacheHits),
      ':saved': n(b.cacheSavedNanoUsd),
    };
    const sets = ['#day = :day', '#keyId = :keyId', '#keyName = :keyName', '#team = :team', '#exp = :exp'];
    const adds = [
      'requests :req',
      'errors :err',
      'promptTokens :pt',
      'completionTokens :ct',
      'costNanoUsd :cost',
      'cacheHits :hit',
      'cacheSavedNanoUsd :saved',
    ];
    let i = 0;
    for (const [model, m] of b.models) {
      names[`#m${i}r`] = `${MODEL_PREFIX}${model}:r`;
      names[`#m${i}t`] = `${MODEL_PREFIX}${model}:t`;
      names[`#m${i}c`] = `${MODEL_PREFIX}${model}:c`;
      values[`:m${i}r`] = n(m.requests);
      values[`:m${i}t`] = n(m.tokens);
      values[`:m${i}c`] = n(m.costNanoUsd);
      adds.push(`#m${i}r :m${i}r`, `#m${i}t :m${i}t`, `#m${i}c :m${i}c`);
      i++;
    }
    this.nextSlots(`${pk}|${sk}`, b.recent.length).forEach((slot, j) => {
      names[`#r${j}`] = `${RECENT_PREFIX}${slot}`;
      values[`:r${j}`] = s(JSON.stringify(b.recent[j]));
      sets.push(`#r${j} = :r${j}`);
    });
    return {
      TableName: this.tableName,
      Key: { pk: s(pk), sk: s(sk) },
      UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  async query(q: UsageQuery): Promise<UsageRow[]> {
    const items: Record<string, AttributeValue>[] = [];
    const scoped = q.team !== undefined || q.keyId !== undefined;
    if (scoped) {
      if (q.team === undefined || (q.team === null && !q.keyId)) throw new Error('a usage query names the scope (team, or null with a keyId)');
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': s(scopePk(q.team, q.keyId ?? '')),
          ':from': s(`${q.fromDay}#`),
          ':to': s(`${q.toDay}#\uffff`),
          ...(q.keyId ? { ':key': s(q.keyId) } : {}),
        },
        ...(q.keyId ? { FilterExpression: 'keyId = :key' } : {}),
      };
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } else {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: '#day BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#day': 'day' },
            ExpressionAttributeValues: { ':from': s(q.fromDay), ':to': s(q.toDay) },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    }
    return items.map(rowOf);
  }
}

function rowOf(item: Record<string, AttributeValue>): UsageRow {
  const models: Record<string, ModelTotals> = {};
  const recent: RecentRequest[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(MODEL_PREFIX)) {
      const cut = name.lastIndexOf(':');
      const model = name.slice(MODEL_PREFIX.length, cut);
      const totals = (models[model] ??= { requests: 0, tokens: 0, costUsd: 0 });
      const field = name.slice(cut + 1);
      if (field === 'r') totals.requests = num(value);
      else if (field === 't') totals.tokens = num(value);
      else if (field === 'c') totals.costUsd = num(value) / NANO_PER_USD;
    } else if (name.startsWith(RECENT_PREFIX) && value.S) {
      try {
        recent.push(JSON.parse(value.S) as RecentRequest);
      } catch {
        // A slot that is not JSON was not written by this code: skip it rather than fail the page.
      }
    }
  }
  return {
    day: item.day?.S ?? '',
    keyId: item.keyId?.S ?? '',
    keyName: item.keyName?.S ?? '',
    team: item.team?.S ?? null,
    requests: num(item.requests),
    errors: num(item.errors),
    promptTokens: num(item.promptTokens),
    completionTokens: num(item.completionTokens),
    costUsd: num(item.costNanoUsd) / NANO_PER_USD,
    cacheHits: num(item.cacheHits),
    cacheSavedUsd: num(item.cacheSavedNanoUsd) / NANO_PER_USD,
    models,
    recent,
  };
}
