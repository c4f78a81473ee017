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
  type LimitUsage,
  usageReport,
  violations,
} from '../core/limits/policy';
import { type WindowSet, windowEnd, windowsAt } from '../core/limits/windows';
import { Lease, type LeaseOptions, RateTracker, leaseRequests, resolveLeaseOptions } from '../core/limits/leases';
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
  /**
   * Leased capacity: how much of a busy subject's room this process takes at once (see
   * core/limits/leases.ts). `{ horizonMs: 0 }` reserves every request exactly, with two writes.
   * @default - leases of about 2 s of traffic, at most 10 % of what is left, ending within 10 s
   */
  readonly leases?: LeaseOptions;
}

export interface LimiterStats {
  /** Counter-store calls that failed (after the SDK's retries). */
  storeErrors: number;
  /** Leases taken, and requests admitted from a lease (no store write of their own). */
  leasesTaken: number;
  leasedRequests: number;
  /** Requests admitted unmetered because the store failed and rateLimitFailMode is `open`. */
  failOpen: number;
}

export type DynamoLimiter = Limiter &
  UsageReader &
  TeamLimitsStore & {
    stats(): LimiterStats;
    /** Give back every lease's unused capacity (shutdown). Requests in flight keep theirs until settled. */
    shutdown(): Promise<void>;
    /** Resolves when no lease return is in flight. */
    idle(): Promise<void>;
  };

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

/** One subject's part of a reservation admitted from a lease: settled in memory. */
interface LeasedPart {
  readonly lease: Lease<HeldPart>;
  readonly subject: Subject;
  readonly need: Need;
}

class HeldReservation implements Reservation {
  done = false;
  constructor(
    readonly parts: readonly HeldPart[],
    readonly leased: readonly LeasedPart[],
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

/** A lease's in-flight member: `<taken at s>:L<process>.<seq>.<requests>.<tokens>.<nano-USD>`. */
const LEASE_MEMBER = /^(\d+):L[^.]+\.\d+\.(\d+)\.(\d+)\.(\d+)$/;

/** What outstanding leases hold in the current windows (their grants, used or not yet). */
function leasedIn(members: readonly string[], w: WindowSet) {
  const out = { leases: 0, requestsMinute: 0, tokensMinute: 0, tokensDay: 0, nanoUsdDay: 0, nanoUsdMonth: 0 };
  for (const m of members) {
    const match = LEASE_MEMBER.exec(m);
    if (!match) continue;
    const taken = windowsAt(Number(match[1]) * 1000);
    const [requests, tokens, nano] = [Number(match[2]), Number(match[3]), Number(match[4])];
    out.leases++;
    if (taken.minute === w.minute) {
      out.requestsMinute += requests;
      out.tokensMinute += tokens;
    }
    if (taken.day === w.day) {
      out.tokensDay += tokens;
      out.nanoUsdDay += nano;
    }
    if (taken.month === w.month) out.nanoUsdMonth += nano;
  }
  return out;
}

/** The expression alias of each counter field in a reserve write (the names map sets them). */
const FIELD_ALIAS: Readonly<Record<CounterField, string>> = { requestsMinute: '#rm', tokensMinute: '#tm', tokensDay: '#td', costDay: '#cd', costMonth: '#co' };

export function createDynamoLimiter(options: DynamoLimiterOptions): DynamoLimiter {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const failMode = options.failMode ?? 'closed';
  const images = new ImageCache();
  const teams = new DynamoTeamLimits(client, tableName, now, options.teamCacheTtlMs ?? 5_000);
  const stats: LimiterStats = { storeErrors: 0, failOpen: 0, leasesTaken: 0, leasedRequests: 0 };
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
   * current one. `unadmittedRequests` also gives back that many requests (a partial reservation
   * undone, or the unused requests of a lease).
   */
  async function settlePart(part: HeldPart, tokens: number, nanoUsd: number, unadmittedRequests = 0): Promise<void> {
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
    if (unadmittedRequests) add(part.windows.minute === w.minute, then.requestsMinute, cur.requestsMinute, -unadmittedRequests);
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

  // ---- Leased capacity (core/limits/leases.ts): the store half ----
  const leaseOpts = resolveLeaseOptions(options.leases);
  const rates = new RateTracker();
  const instanceId = Math.random().toString(36).slice(2, 10);
  let leaseSeq = 0;
  interface LeaseEntry {
    leases: Lease<HeldPart>[];
    acquiring?: Promise<void>;
    /** The subject's limits as last seen: leases taken under others are void. */
    fingerprint: string;
  }
  const leaseBook = new Map<string, LeaseEntry>();
  const returning = new Set<Promise<void>>();
  const fingerprintOf = (s: Subject) => JSON.stringify(s.limits);

  /** Give back what an ended lease did not use (one write); its used part stays counted. */
  function returnLease(entry: LeaseEntry, lease: Lease<HeldPart>): void {
    entry.leases = entry.leases.filter((l) => l !== lease);
    const p = settlePart(lease.handle, lease.used.tokens, lease.used.nanoUsd, lease.grant.requests - lease.used.requests).catch((err) => {
      stats.storeErrors++;
      logger.error('returning a lease failed: its unused capacity stays counted until its window ends', { error: String(err), pk: lease.handle.pk });
    });
    returning.add(p);
    void p.finally(() => returning.delete(p));
  }

  /** End leases past their time, of another minute, or taken under limits that changed; return the idle ones. */
  function sweep(entry: LeaseEntry, t: number): void {
    const minute = windowsAt(t).minute;
    for (const lease of [...entry.leases]) {
      if (!lease.ended && (t >= lease.endsAt || lease.minute !== minute || lease.fingerprint !== entry.fingerprint)) lease.ended = true;
      if (lease.ended && lease.inFlight === 0) returnLease(entry, lease);
    }
  }

  /** Take a lease sized to the subject's rate and room, or none (the request then reserves exactly). */
  async function acquireLease(subject: Subject, entry: LeaseEntry, need: Need, others: SubjectState[]): Promise<void> {
    const t = now();
    const last = lastItem.get(subjectKey(subject));
    // No image yet: the first request reserves exactly, and its write shows the room.
    if (!last || !images.get(last.pk)) return;
    const counters = stateOf(subject, t).counters;
    const room = checksFor(subject.limits, need).map((c) => ({ left: c.limit - counters[c.field], need: c.need }));
    const n = leaseRequests(rates.perSecond(subjectKey(subject), t), room, leaseOpts);
    if (!n) return;
    const grant: Need = { requests: n, tokens: n * need.tokens, nanoUsd: n * need.nanoUsd };
    const id = `L${instanceId}.${++leaseSeq}.${grant.requests}.${grant.tokens}.${grant.nanoUsd}`;
    let part: HeldPart;
    try {
      part = await reserveOne(subject, grant, id, t, others);
    } catch (err) {
      if (err instanceof GatewayError) return; // it does not fit: requests reserve exactly
      throw err;
    }
    const minute = part.windows.minute;
    const l = subject.limits;
    entry.leases.push(
      new Lease(part, grant, fingerprintOf(subject), minute, Math.min(windowEnd('minute', minute), t + leaseOpts.ttlMs), {
        requests: !!l.rpm,
        tokens: !!(l.tpm || l.tokensPerDay),
        nanoUsd: !!l.budgetUsd,
      }),
    );
    stats.leasesTaken++;
  }

  function startAcquire(subject: Subject, entry: LeaseEntry, need: Need, others: SubjectState[]): Promise<void> {
    entry.acquiring ??= acquireLease(subject, entry, need, others).finally(() => (entry.acquiring = undefined));
    return entry.acquiring;
  }

  /** Admit one request's need from a lease of the subject, taking one if none has room; undefined means reserve exactly. */
  async function fromLease(subject: Subject, need: Need, t: number, others: SubjectState[]): Promise<Lease<HeldPart> | undefined> {
    if (leaseOpts.horizonMs <= 0) return undefined;
    sweepAll(t);
    const key = subjectKey(subject);
    rates.note(key, t);
    let entry = leaseBook.get(key);
    if (!entry) leaseBook.set(key, (entry = { leases: [], fingerprint: fingerprintOf(subject) }));
    entry.fingerprint = fingerprintOf(subject);
    sweep(entry, t);
    let lease = entry.leases.find((l) => l.take(need));
    if (!lease) {
      await startAcquire(subject, entry, need, others);
      lease = entry.leases.find((l) => l.take(need));
    }
    // Running low: the next lease is taken in the background, so no request waits for the store.
    if (lease && lease.leftShare() < 0.25 && !entry.acquiring)
      void startAcquire(subject, entry, need, others).catch((err) => {
        stats.storeErrors++;
        logger.warn('renewing a lease failed: requests reserve exactly until the store answers', { error: String(err) });
      });
    if (lease) stats.leasedRequests++;
    return lease;
  }

  /** Settle a leased part in memory; a lease that ended is returned once its last request settles. */
  function settleLeased(p: LeasedPart, tokens: number, nanoUsd: number): void {
    p.lease.give(p.need, { tokens, nanoUsd });
    const entry = leaseBook.get(subjectKey(p.subject));
    if (entry) sweep(entry, now());
  }

  /** Every subject's leases, at most once a second: a key no request uses any more (revoked, idle) still gives its lease back. */
  let sweptAt = 0;
  function sweepAll(t: number): void {
    if (t - sweptAt < 1000 && t >= sweptAt) return;
    sweptAt = t;
    for (const [key, entry] of leaseBook) {
      sweep(entry, t);
      if (!entry.leases.length && !entry.acquiring) leaseBook.delete(key);
    }
  }
  // Locally (a long-lived process) idle leases go back within a second of ending; on Lambda, at the next invocation.
  const sweeper = setInterval(() => sweepAll(now()), 1000);
  sweeper.unref?.();

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
  function reportOverReservation(reservation: HeldReservation, tokens: number, nano: number): void {
    const parts = [...reservation.parts, ...reservation.leased];
    const reserved =
      reservation.parts[0] ?? (reservation.leased[0] && { tokens: reservation.leased[0].need.tokens, nanoUsd: reservation.leased[0].need.nanoUsd });
    if (!reserved || (tokens <= reserved.tokens && nano <= reserved.nanoUsd)) return;
    const part = reserved;
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
    reportOverReservation(reservation, tokens, nano);
    for (const p of reservation.leased) settleLeased(p, tokens, nano);
    const results = await Promise.allSettled(reservation.parts.map((p) => settlePart(p, tokens, nano)));
    reservation.states.splice(0, reservation.states.length, ...[...reservation.leased, ...reservation.parts].map((p) => stateOf(p.subject, now())));
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
    const members = items.flatMap((item) => inflightOf(item));
    const leased = leasedIn(members, w);
    const report = usageReport(subject.limits, sumCounters(items.map((item) => countersOf(item, w))), w, members.length - leased.leases);
    // Leased capacity is held by gateway processes ahead of requests: counted against the limit
    // (so `remaining` excludes it), but shown apart from what requests used.
    // What this process's own leases already admitted is used, not merely held (locally the admin API shares the limiter).
    const own = { requests: 0, tokens: 0, nanoUsd: 0 };
    for (const lease of leaseBook.get(`${subject.kind}#${subject.id}`)?.leases ?? []) {
      if (lease.minute !== w.minute) continue;
      own.requests += lease.used.requests;
      own.tokens += lease.used.tokens;
      own.nanoUsd += lease.used.nanoUsd;
    }
    const apart = (u: LimitUsage, held: number, ownUsed: number) => {
      const stillHeld = Math.max(0, held - ownUsed);
      return { ...u, used: Math.max(0, u.used - stillHeld), leased: stillHeld };
    };
    const budgetHeld = Math.max(0, (report.budgetUsd.period === 'day' ? leased.nanoUsdDay : leased.nanoUsdMonth) - own.nanoUsd);
    return {
      ...report,
      rpm: apart(report.rpm, leased.requestsMinute, own.requests),
      tpm: apart(report.tpm, leased.tokensMinute, own.tokens),
      tokensPerDay: apart(report.tokensPerDay, leased.tokensDay, own.tokens),
      budgetUsd: { ...report.budgetUsd, spentUsd: Math.max(0, report.budgetUsd.spentUsd - budgetHeld / NANO_PER_USD), leasedUsd: budgetHeld / NANO_PER_USD },
      leases: leased.leases,
      counterItems: shards,
    };
  }

  return {
    async reserve(key: KeyRecord, estimate: UsageEstimate, requestId: string, endUser?: string): Promise<Reservation> {
      let subjects: Subject[] = [];
      const parts: HeldPart[] = [];
      const leased: LeasedPart[] = [];
      try {
        subjects = await subjectsFor(key, endUser);
        if (!subjects.length) return new FreeReservation({});
        // Spend on a model with no price would pass a USD budget uncounted: budgets are strict.
        if (estimate.unpricedTarget && subjects.some((s) => hasBudget(s.limits))) throw errors.modelNotPriced(estimate.unpricedTarget);
        const t = now();
        const need: Need = { requests: 1, tokens: Math.max(0, Math.ceil(estimate.tokens)), nanoUsd: toNanoUsd(estimate.costUsd) };
        const states: SubjectState[] = [];
        for (const s of subjects) {
          const lease = await fromLease(s, need, t, states);
          if (lease) leased.push({ lease, subject: s, need });
          else parts.push(await reserveOne(s, need, requestId, t, states));
          states.push(stateOf(s, t));
        }
        return new HeldReservation(parts, leased, states, now);
      } catch (err) {
        // Give back what this request already holds (a key part when its team refused).
        for (const p of leased) p.lease.untake(p.need);
        await Promise.all(
          parts.map((p) => settlePart(p, 0, 0, 1).catch((e) => logger.error('releasing a partial reservation failed', { error: String(e), requestId }))),
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
    async idle() {
      await Promise.allSettled([...returning]);
    },
    async shutdown() {
      clearInterval(sweeper);
      for (const entry of leaseBook.values()) {
        for (const lease of entry.leases) lease.ended = true;
        sweep(entry, now());
      }
      await Promise.allSettled([...returning]);
    },
  };
}
