/**
 * Limits and budgets on DynamoDB (ARCHITECTURE §8), also against dynalite, which has no
 * transactions: every step is ONE conditional UpdateItem on one counters item per subject.
 *
 *   reserve  ADD the request and its estimate to the current minute/day/month counters, on the
 *            condition that each limited counter still has room (the check and the increment are
 *            one atomic write, so concurrent Lambdas never admit past a limit by more than one
 *            reservation), and that this request id is not already in flight (a retried write
 *            that already applied fails instead of counting twice).
 *   settle   ADD (real − reserved) to the same windows and remove the request from `inflight`,
 *            on the condition that it is still there (so settling twice is impossible).
 *   release  settle with zero usage.
 *
 * Hot path per request for a key with limits: 2 writes (reserve + settle) and no read. A refusal
 * costs one failed write (on DynamoDB the failure returns the item, so no read; dynalite needs
 * one GetItem). A key in a team with limits adds one write per step for the team item, and a
 * request from an end user of a key with `limits.perUser` one more per step for that user's item
 * (`lim#user#<key id>#<user>`): per-user limits cost 2 writes per request and no read, with the
 * same guarantees (one atomic conditional write per subject, over-admission at most one
 * reservation per user, every reservation settled or released).
 */
import { type AttributeValue, type DynamoDBClient, GetItemCommand, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { UsageReader, UsageReport } from '../core/admin';
import { GatewayError, errors } from '../core/errors';
import type { KeyLimits, KeyRecord } from '../core/keys';
import type { TeamLimitsStore } from '../core/limits/teams';
import {
  type CounterField,
  type Need,
  type Refusal,
  type Subject,
  type SubjectState,
  checksFor,
  hasAnyLimit,
  hasBudget,
  maxBefore,
  mostRestrictive,
  rateLimitHeaders,
  refusalError,
  toNanoUsd,
  NANO_PER_USD,
  usageReport,
  violations,
} from '../core/limits/policy';
import { type WindowSet, windowsAt } from '../core/limits/windows';
import { scaleCounters, shardCount, shardLimits, sumCounters } from '../core/limits/shards';
import { emfCount } from '../core/limits/metrics';
import { type ActualUsage, type Limiter, type Logger, type Reservation, type UsageEstimate, silentLogger } from '../core/ports';
import {
  INFLIGHT,
  ITEM_TTL_SECONDS,
  TTL_ATTRIBUTE,
  counterNames,
  countersOf,
  inflightMember,
  inflightOf,
  lostReservations,
  staleWindowAttributes,
  subjectPk,
} from './counter-item';
import { DynamoTeamLimits } from './dynamo-team-limits';

export interface DynamoLimiterOptions {
  readonly client: DynamoDBClient;
  /** The counters table (partition key `pk`, TTL attribute `expiresAt`). */
  readonly tableName: string;
  readonly now?: () => number;
  /**
   * What request-rate limits (rpm, tpm, tokensPerDay) do when the counter store fails: `closed`
   * answers 503, `open` admits the request unmetered (logged as metric `RateLimitFailOpen`).
   * USD budgets and team lookups always fail closed. @default 'closed'
   */
  readonly failMode?: 'open' | 'closed';
  readonly logger?: Logger;
  /** Value of the `Gateway` dimension on the limiter's metrics (the construct's metrics id). @default - no dimension */
  readonly metricsGatewayId?: string;
  /** How long team limits (`team#<name>` items in this table) are cached; a change takes effect within it. @default 5000 */
  readonly teamCacheTtlMs?: number;
  /** Hot-key spreading: one counters item per this many rpm of a subject's limit (max 16 items). @default 6000 */
  readonly rpmPerShard?: number;
  /** Picks the counters item (shard) of a spread subject. @default Math.random */
  readonly random?: () => number;
}

export interface LimiterStats {
  /** Counter-store calls that failed (after the SDK's retries). */
  storeErrors: number;
  /** Requests admitted unmetered because the store failed and rateLimitFailMode is `open`. */
  failOpen: number;
}

export type DynamoLimiter = Limiter & UsageReader & TeamLimitsStore & { stats(): LimiterStats };

/** One subject's part of a held reservation. */
interface HeldPart {
  readonly pk: string;
  readonly shards: number;
  readonly subject: Subject;
  readonly member: string;
  readonly windows: WindowSet;
  readonly tokens: number;
  readonly nanoUsd: number;
}

class HeldReservation implements Reservation {
  done = false;
  constructor(
    readonly parts: readonly HeldPart[],
    /** Latest known counters per subject, refreshed by settle. */
    readonly states: SubjectState[],
    private readonly now: () => number,
  ) {}

  get headers(): Record<string, string> {
    return rateLimitHeaders(this.states, this.now());
  }
}

/** A reservation that holds nothing: no limits apply, or the store failed open. */
class FreeReservation implements Reservation {
  constructor(readonly headers: Readonly<Record<string, string>>) {}
}

const isConditionFailure = (err: unknown): err is { name: string; Item?: Record<string, AttributeValue> } =>
  (err as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Bounded map: the counters items this instance saw last (for headers and stale-attribute cleanup). */
class ImageCache {
  private readonly map = new Map<string, Record<string, AttributeValue>>();
  constructor(private readonly max = 10_000) {}
  get(pk: string) {
    return this.map.get(pk);
  }
  set(pk: string, item: Record<string, AttributeValue> | undefined) {
    if (!item) return;
    this.map.delete(pk);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(pk, item);
  }
}

const RACE_RETRIES = 3;

/**
 * A key's end user as a counters subject: the user id is percent-encoded, so no user id can end in
 * what looks like another user's shard suffix (`#2`).
 */
const userSubjectId = (keyId: string, user: string) => `${keyId}#${encodeURIComponent(user)}`;

/** The expression alias of each counter field in a reserve write (the names map sets them). */
const FIELD_ALIAS: Readonly<Record<CounterField, string>> = { requestsMinute: '#rm', tokensMinute: '#tm', tokensDay: '#td', costDay: '#cd', costMonth: '#co' };

export function createDynamoLimiter(options: DynamoLimiterOptions): DynamoLimiter {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const failMode = options.failMode ?? 'closed';
  const images = new ImageCache();
  const teams = new DynamoTeamLimits(client, tableName, now, options.teamCacheTtlMs ?? 5_000);
  const stats: LimiterStats = { storeErrors: 0, failOpen: 0 };
  const random = options.random ?? Math.random;
  const rpmPerShard = options.rpmPerShard;
  /** The counters item a subject used last in this instance (its shard), for headers without a store call. */
  const lastItem = new Map<string, { pk: string; shards: number }>();
  const subjectKey = (s: Subject) => `${s.kind}#${s.id}`;

  function cachedSubjects(key: KeyRecord): Subject[] {
    const out: Subject[] = [];
    if (hasAnyLimit(key.limits)) out.push({ kind: 'key', id: key.id, label: key.name, limits: key.limits! });
    const team = key.team ? teams.cached(key.team).record : undefined;
    if (team && hasAnyLimit(team.limits)) out.push({ kind: 'team', id: team.team, label: team.team, limits: team.limits });
    return out;
  }

  async function subjectsFor(key: KeyRecord, endUser: string | undefined): Promise<Subject[]> {
    const out: Subject[] = [];
    // Per-user limits are usually the tightest: checked first, a refusal there wastes no other write.
    const perUser = key.limits?.perUser;
    if (endUser !== undefined && hasAnyLimit(perUser)) out.push({ kind: 'user', id: userSubjectId(key.id, endUser), label: endUser, limits: perUser! });
    if (hasAnyLimit(key.limits)) out.push({ kind: 'key', id: key.id, label: key.name, limits: key.limits! });
    if (key.team) {
      const limits = await teams.limits(key.team);
      if (hasAnyLimit(limits)) out.push({ kind: 'team', id: key.team, label: key.team, limits: limits! });
    }
    return out;
  }

  /** Latest known counters of a subject: its last-used item, scaled up when the subject is spread. */
  function stateOf(subject: Subject, t: number): SubjectState {
    const last = lastItem.get(subjectKey(subject)) ?? { pk: subjectPk(subject.kind, subject.id), shards: 1 };
    return { subject, counters: scaleCounters(countersOf(images.get(last.pk), windowsAt(t)), last.shards) };
  }

  const expiresAt = (t: number) => ({ N: String(Math.floor(t / 1000) + ITEM_TTL_SECONDS) });

  /** Refuse with the subject's full limits in the answer (a spread subject's shard holds a share). */
  function refuse(
    subject: Subject,
    need: Need,
    shards: number,
    failing: ReturnType<typeof violations>,
    item: Record<string, AttributeValue> | undefined,
    t: number,
    others: SubjectState[],
  ): never {
    const counters = scaleCounters(countersOf(item, windowsAt(t)), shards);
    const full = checksFor(subject.limits, need);
    const refusals: Refusal[] = failing.map((c) => ({ subject, check: full.find((f) => f.name === c.name) ?? c, used: counters[c.field] }));
    const headers = rateLimitHeaders([...others, { subject, counters }], t);
    throw refusalError(mostRestrictive(refusals, t), t, headers);
  }

  /** One conditional write that checks and takes room in every limited window of one subject. */
  async function reserveOne(subject: Subject, need: Need, requestId: string, t: number, others: SubjectState[]): Promise<HeldPart> {
    const w = windowsAt(t);
    const shards = shardCount(subject.limits, rpmPerShard);
    const pk = subjectPk(subject.kind, subject.id, shards > 1 ? Math.floor(random() * shards) : 0);
    lastItem.set(subjectKey(subject), { pk, shards });
    const checks = checksFor(shardLimits(subject.limits, shards), need);
    const never = checks.filter((c) => maxBefore(c) < 0);
    if (never.length) refuse(subject, need, shards, never, images.get(pk), t, others);
    const member = inflightMember(t, requestId);
    const n = counterNames(w);
    const names: Record<string, string> = {
      '#rm': n.requestsMinute,
      '#tm': n.tokensMinute,
      '#td': n.tokensDay,
      '#cd': n.costDay,
      '#co': n.costMonth,
      '#inf': INFLIGHT,
      '#exp': TTL_ATTRIBUTE,
    };
    const values: Record<string, AttributeValue> = {
      ':one': { N: String(need.requests) },
      ':tok': { N: String(need.tokens) },
      ':cost': { N: String(need.nanoUsd) },
      ':mset': { SS: [member] },
      ':m': { S: member },
      ':exp': expiresAt(t),
    };
    const conditions = ['(attribute_not_exists(#inf) OR NOT contains(#inf, :m))'];
    for (const c of checks) {
      const alias = FIELD_ALIAS[c.field];
      values[`:max_${c.name}`] = { N: String(maxBefore(c)) };
      conditions.push(`(attribute_not_exists(${alias}) OR ${alias} <= :max_${c.name})`);
    }
    const stale = staleWindowAttributes(images.get(pk), w);
    for (const [i, attr] of stale.entries()) names[`#s${i}`] = attr;
    const input: UpdateItemCommandInput = {
      TableName: tableName,
      Key: { pk: { S: pk } },
      UpdateExpression: `ADD #rm :one, #tm :tok, #td :tok, #cd :cost, #co :cost, #inf :mset SET #exp = :exp${stale.length ? ` REMOVE ${stale.map((_, i) => `#s${i}`).join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
      // DynamoDB returns the item with a failed condition, so a refusal needs no extra read.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
    const part: HeldPart = { pk, shards, subject, member, windows: w, tokens: need.tokens, nanoUsd: need.nanoUsd };
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await client.send(new UpdateItemCommand(input));
        images.set(pk, out.Attributes);
        return part;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const item = err.Item ?? (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;
        images.set(pk, item);
        // An SDK retry of a write that had applied: the reservation is already held.
        if (inflightOf(item).includes(member)) return part;
        const failing = violations(checks, countersOf(item, w));
        if (failing.length) refuse(subject, need, shards, failing, item, t, others);
        // Room appeared between the write and the read (a settle); try again, a bounded number of times.
        if (attempt >= RACE_RETRIES) refuse(subject, need, shards, checks, item, t, others);
      }
    }
  }

  /**
   * ADD (real − reserved) to the reservation's windows; usage past a window's end goes to the
   * current one. `unadmitted` also gives back the request count (a partial reservation undone).
   */
  async function settlePart(part: HeldPart, tokens: number, nanoUsd: number, unadmitted = false): Promise<void> {
    const t = now();
    const w = windowsAt(t);
    const dTok = tokens - part.tokens;
    const dCost = nanoUsd - part.nanoUsd;
    const then = counterNames(part.windows);
    const cur = counterNames(w);
    const adds: [string, number][] = [];
    const add = (sameWindow: boolean, thenName: string, curName: string, delta: number) => {
      if (sameWindow) adds.push([thenName, delta]);
      else if (delta > 0) adds.push([curName, delta]);
    };
    if (unadmitted) add(part.windows.minute === w.minute, then.requestsMinute, cur.requestsMinute, -1);
    add(part.windows.minute === w.minute, then.tokensMinute, cur.tokensMinute, dTok);
    add(part.windows.day === w.day, then.tokensDay, cur.tokensDay, dTok);
    add(part.windows.day === w.day, then.costDay, cur.costDay, dCost);
    add(part.windows.month === w.month, then.costMonth, cur.costMonth, dCost);
    const names: Record<string, string> = { '#inf': INFLIGHT, '#exp': TTL_ATTRIBUTE };
    const values: Record<string, AttributeValue> = {
      ':m': { S: part.member },
      ':mset': { SS: [part.member, ...lostReservations(images.get(part.pk), Math.floor(t / 1000)).filter((m) => m !== part.member)] },
      ':exp': expiresAt(t),
    };
    const addClauses = adds
      .filter(([, d]) => d !== 0)
      .map(([attr, d], i) => {
        names[`#a${i}`] = attr;
        values[`:a${i}`] = { N: String(d) };
        return `#a${i} :a${i}`;
      });
    try {
      const out = await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: part.pk } },
          UpdateExpression: `${addClauses.length ? `ADD ${addClauses.join(', ')} ` : ''}DELETE #inf :mset SET #exp = :exp`,
          ConditionExpression: 'contains(#inf, :m)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      images.set(part.pk, out.Attributes);
    } catch (err) {
      // Not in flight any more: an SDK retry of a settle that had applied. Nothing to do.
      if (isConditionFailure(err)) return;
      throw err;
    }
  }

  function storeFailure(subjects: Subject[], err: unknown, key: KeyRecord): Reservation {
    stats.storeErrors++;
    const budgeted = subjects.some((s) => hasBudget(s.limits)) || (key.team !== undefined && !teams.cached(key.team).known);
    if (failMode === 'open' && !budgeted) {
      stats.failOpen++;
      logger.warn('counter store unavailable: admitting without rate limits (rateLimitFailMode=open)', {
        ...emfCount('RateLimitFailOpen', now(), options.metricsGatewayId),
        error: String(err),
        keyId: key.id,
      });
      return new FreeReservation(
        rateLimitHeaders(
          subjects.map((s) => stateOf(s, now())),
          now(),
        ),
      );
    }
    logger.error('counter store unavailable: refusing (budgets and fail-closed rate limits)', {
      ...emfCount('LimitsUnavailable', now(), options.metricsGatewayId),
      error: String(err),
      keyId: key.id,
    });
    throw errors.unavailable('The gateway cannot check rate limits and budgets right now. Retry shortly.', 1, 'limits_unavailable');
  }

  /**
   * The provider reported more than was reserved (it ignored the output cap, or the prompt was
   * underestimated): limits and budgets overshoot by the difference, so say so, as a metric too.
   */
  function reportOverReservation(parts: readonly HeldPart[], tokens: number, nano: number): void {
    const part = parts[0];
    if (!part || (tokens <= part.tokens && nano <= part.nanoUsd)) return;
    logger.warn('usage exceeded the reservation', {
      ...emfCount('UsageOverReservation', now(), options.metricsGatewayId),
      keyId: parts.find((p) => p.subject.kind === 'key')?.subject.id,
      team: parts.find((p) => p.subject.kind === 'team')?.subject.id,
      reservedTokens: part.tokens,
      usedTokens: tokens,
      reservedUsd: part.nanoUsd / NANO_PER_USD,
      usedUsd: nano / NANO_PER_USD,
    });
  }

  async function settle(reservation: Reservation, actual: ActualUsage): Promise<void> {
    if (!(reservation instanceof HeldReservation) || reservation.done) return;
    reservation.done = true;
    const tokens = Math.max(0, Math.ceil(actual.tokens));
    const nano = toNanoUsd(actual.costUsd);
    reportOverReservation(reservation.parts, tokens, nano);
    const results = await Promise.allSettled(reservation.parts.map((p) => settlePart(p, tokens, nano)));
    reservation.states.splice(0, reservation.states.length, ...reservation.parts.map((p) => stateOf(p.subject, now())));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      stats.storeErrors++;
      throw failed.reason;
    }
  }

  /** Consistent reads of every counters item of the subject (one unless it is spread), summed. */
  async function usageOf(subject: { kind: 'key' | 'team'; id: string; limits: KeyLimits }) {
    const t = now();
    const w = windowsAt(t);
    const shards = shardCount(subject.limits, rpmPerShard);
    const items = await Promise.all(
      Array.from({ length: shards }, (_, i) =>
        client
          .send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: subjectPk(subject.kind, subject.id, i) } }, ConsistentRead: true }))
          .then((o) => o.Item),
      ),
    );
    const inFlight = items.reduce((n, item) => n + inflightOf(item).length, 0);
    return { ...usageReport(subject.limits, sumCounters(items.map((item) => countersOf(item, w))), w, inFlight), counterItems: shards };
  }

  return {
    async reserve(key: KeyRecord, estimate: UsageEstimate, requestId: string, endUser?: string): Promise<Reservation> {
      let subjects: Subject[] = [];
      const parts: HeldPart[] = [];
      try {
        subjects = await subjectsFor(key, endUser);
        if (!subjects.length) return new FreeReservation({});
        // Spend on a model with no price would pass a USD budget uncounted: budgets are strict.
        if (estimate.unpricedTarget && subjects.some((s) => hasBudget(s.limits))) throw errors.modelNotPriced(estimate.unpricedTarget);
        const t = now();
        const need: Need = { requests: 1, tokens: Math.max(0, Math.ceil(estimate.tokens)), nanoUsd: toNanoUsd(estimate.costUsd) };
        const states: SubjectState[] = [];
        for (const s of subjects) {
          parts.push(await reserveOne(s, need, requestId, t, states));
          states.push(stateOf(s, t));
        }
        return new HeldReservation(parts, states, now);
      } catch (err) {
        // Give back what this request already holds (a key part when its team refused).
        await Promise.all(
          parts.map((p) => settlePart(p, 0, 0, true).catch((e) => logger.error('releasing a partial reservation failed', { error: String(e), requestId }))),
        );
        if (err instanceof GatewayError) throw err;
        return storeFailure(subjects, err, key);
      }
    },
    settle,
    release: (reservation) => settle(reservation, { tokens: 0, costUsd: 0 }),
    peekHeaders(key: KeyRecord) {
      const t = now();
      return rateLimitHeaders(
        cachedSubjects(key).map((s) => stateOf(s, t)),
        t,
      );
    },
    async usage(key: KeyRecord): Promise<UsageReport> {
      const own = await usageOf({ kind: 'key', id: key.id, limits: key.limits ?? {} });
      if (!key.team) return own;
      const team = await teams.getTeam(key.team);
      return { ...own, team: { name: key.team, limits: team?.limits ?? {}, usage: await usageOf({ kind: 'team', id: key.team, limits: team?.limits ?? {} }) } };
    },
    getTeam: (team) => teams.getTeam(team),
    putTeam: (team, limits) => teams.putTeam(team, limits),
    stats: () => ({ ...stats }),
  };
}
