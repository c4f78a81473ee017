/**
 * Team limits stored in the counters table as `team#<name>` items (the limiter owns everything it
 * enforces: one table, one grant). Reads on the hot path go through a short cache that re-reads in
 * the background before it expires, so a team's limits cost one GetItem per instance per TTL and
 * no request waits for it while the team is in use; a failed read serves the stale entry if any.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { KeyLimits } from '../core/keys';
import type { TeamLimitsStore, TeamRecord } from '../core/limits/teams';
import { teamConfigPk } from './counter-item';
import { RefreshingCache } from '../core/refreshing-cache';

export class DynamoTeamLimits implements TeamLimitsStore {
  /** `{ record: undefined }` is a read that found no team: cached too (most teams have no item). */
  private readonly cache: RefreshingCache<string, { readonly record: TeamRecord | undefined }>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number,
    /** How long a read is trusted; a change made elsewhere applies within it. */
    ttlMs: number,
  ) {
    this.cache = new RefreshingCache({ maxAgeMs: ttlMs, now, staleIfError: true });
  }

  async getTeam(team: string): Promise<TeamRecord | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: teamConfigPk(team) } }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const limitsJson = out.Item.limits?.S;
    return { team, limits: limitsJson ? (JSON.parse(limitsJson) as KeyLimits) : {}, updatedAt: out.Item.updatedAt?.S };
  }

  async putTeam(team: string, limits: KeyLimits): Promise<TeamRecord> {
    const record: TeamRecord = { team, limits, updatedAt: new Date(this.now()).toISOString() };
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: teamConfigPk(team) },
          type: { S: 'team' },
          team: { S: team },
          limits: { S: JSON.stringify(limits) },
          updatedAt: { S: record.updatedAt! },
        },
      }),
    );
    // This instance sees the change at once; others within the TTL.
    this.cache.invalidate(team);
    return record;
  }

  /** The team's limits through the cache (undefined: the team has none). Throws only with nothing cached. */
  async limits(team: string): Promise<KeyLimits | undefined> {
    const { record } = await this.cache.get(team, async () => ({ record: await this.getTeam(team) }));
    return record?.limits;
  }

  /** What the cache holds, without a store call; `known` is false when nothing was ever read. */
  cached(team: string): { known: boolean; record?: TeamRecord } {
    const entry = this.cache.peek(team);
    return { known: entry !== undefined, record: entry?.record };
  }
}
