/**
 * Limit policy, independent of the store: which checks a subject's limits imply, the most a
 * counter may hold before a request is admitted, which limit a refusal is about, the answer
 * (429 / insufficient_quota) and the OpenAI rate-limit headers.
 */
import { GatewayError } from '../errors';
import type { KeyLimits } from '../keys';
import { type WindowKind, type WindowSet, formatResetDuration, msUntilReset, windowEnd, windowIndex } from './windows';

/** USD amounts are counted in integer nano-dollars, so DynamoDB ADD and comparisons stay exact. */
export const NANO_PER_USD = 1_000_000_000;
export const toNanoUsd = (usd: number): number => Math.ceil(Math.max(0, usd) * NANO_PER_USD);

export type LimitName = 'rpm' | 'tpm' | 'tokensPerDay' | 'budgetUsd';

/** Whose limits: a key, the team it belongs to, or one end user of a key (`limits.perUser`). */
export type SubjectKind = 'key' | 'team' | 'user';

export interface Subject {
  readonly kind: SubjectKind;
  readonly id: string;
  /** How the subject is named in answers (a key's name, a team's name, an end user's id). */
  readonly label: string;
  readonly limits: KeyLimits;
}

/** Counter values in the current windows. Costs in nano-USD. */
export interface Counters {
  readonly requestsMinute: number;
  readonly tokensMinute: number;
  readonly tokensDay: number;
  readonly costDay: number;
  readonly costMonth: number;
}

export const ZERO_COUNTERS: Counters = { requestsMinute: 0, tokensMinute: 0, tokensDay: 0, costDay: 0, costMonth: 0 };

export type CounterField = keyof Counters;

/** What one request asks for. */
export interface Need {
  readonly requests: number;
  readonly tokens: number;
  readonly nanoUsd: number;
}

export interface LimitCheck {
  readonly name: LimitName;
  readonly field: CounterField;
  readonly window: WindowKind;
  /** In counter units (requests, tokens, nano-USD). */
  readonly limit: number;
  /**
   * Budgets are strict: a request whose estimated cost does not fit is refused. Rate limits
   * admit one request larger than the whole limit into an empty window (else it could never run).
   */
  readonly strict: boolean;
  readonly need: number;
}

export function checksFor(limits: KeyLimits, need: Need): LimitCheck[] {
  const out: LimitCheck[] = [];
  if (limits.rpm) out.push({ name: 'rpm', field: 'requestsMinute', window: 'minute', limit: limits.rpm, strict: false, need: need.requests });
  if (limits.tpm) out.push({ name: 'tpm', field: 'tokensMinute', window: 'minute', limit: limits.tpm, strict: false, need: need.tokens });
  if (limits.tokensPerDay) out.push({ name: 'tokensPerDay', field: 'tokensDay', window: 'day', limit: limits.tokensPerDay, strict: false, need: need.tokens });
  if (limits.budgetUsd) {
    const b = limits.budgetUsd;
    out.push({
      name: 'budgetUsd',
      field: b.period === 'day' ? 'costDay' : 'costMonth',
      window: b.period,
      limit: Math.floor(b.amount * NANO_PER_USD),
      strict: true,
      need: need.nanoUsd,
    });
  }
  return out;
}

/** The largest counter value that still admits the request; negative means it can never fit. */
export function maxBefore(c: LimitCheck): number {
  const room = c.limit - c.need;
  return c.strict ? room : Math.max(room, 0);
}

/** The checks the request fails against these counter values. */
export function violations(checks: readonly LimitCheck[], counters: Counters): LimitCheck[] {
  return checks.filter((c) => counters[c.field] > maxBefore(c));
}

export const hasBudget = (limits: KeyLimits | undefined): boolean => !!limits?.budgetUsd;
export const hasAnyLimit = (limits: KeyLimits | undefined): boolean => !!(limits && (limits.rpm || limits.tpm || limits.tokensPerDay || limits.budgetUsd));

export interface Refusal {
  readonly subject: Subject;
  readonly check: LimitCheck;
  readonly used: number;
}

const WINDOW_RANK: Record<WindowKind, number> = { minute: 0, day: 1, month: 2 };

/**
 * Most restrictive = the refusal that lasts longest (latest window reset). On a tie (windows
 * ending together, as at midnight) the longer window wins, then a budget over a rate limit.
 */
export function mostRestrictive(refusals: readonly Refusal[], now: number): Refusal {
  const rank = (r: Refusal) => [msUntilReset(r.check.window, now), WINDOW_RANK[r.check.window], r.check.name === 'budgetUsd' ? 1 : 0];
  const beats = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return refusals.reduce((a, b) => (beats(rank(b), rank(a)) > 0 ? b : a));
}

const LIMIT_WORDS: Record<LimitName, string> = {
  rpm: 'requests per minute',
  tpm: 'tokens per minute',
  tokensPerDay: 'tokens per day',
  budgetUsd: 'budget',
};

const usd = (nano: number) => `$${(nano / NANO_PER_USD).toFixed(4)}`;
const who = (s: Subject) => `${s.kind} '${s.label}'`;

/** The 429 for a refusal: `rate_limit_exceeded` for rate limits, `insufficient_quota` for budgets. */
export function refusalError(r: Refusal, now: number, headers: Record<string, string>): GatewayError {
  const resetMs = msUntilReset(r.check.window, now);
  const retryAfterSeconds = Math.max(1, Math.ceil(resetMs / 1000));
  const allHeaders = { ...headers, 'x-gateway-limit': `${r.subject.kind}:${r.check.name}` };
  if (r.check.name === 'budgetUsd') {
    const period = r.check.window === 'day' ? 'daily' : 'monthly';
    const resetsAt = new Date(windowEnd(r.check.window, windowIndex(r.check.window, now))).toISOString();
    return new GatewayError({
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      message:
        `The ${period} budget of ${who(r.subject)} is exhausted: ${usd(r.used)} of ${usd(r.check.limit)} spent or reserved, ` +
        `and this request may cost up to ${usd(r.check.need)}. The ${period} budget resets at ${resetsAt}.`,
      retryAfterSeconds,
      headers: allHeaders,
    });
  }
  const unit = r.check.name === 'rpm' ? 'requests' : 'tokens';
  const requested = r.check.name === 'rpm' ? '' : `, requested ${r.check.need} (estimated prompt tokens plus the output cap)`;
  return new GatewayError({
    status: 429,
    type: 'rate_limit_error',
    code: 'rate_limit_exceeded',
    message: `Rate limit reached for ${LIMIT_WORDS[r.check.name]} (${r.check.name}) on ${who(r.subject)}: limit ${r.check.limit} ${unit}, used ${r.used}${requested}. Try again in ${formatResetDuration(resetMs)}.`,
    retryAfterSeconds,
    headers: allHeaders,
  });
}

/** A subject's limits together with its latest known counters. */
export interface SubjectState {
  readonly subject: Subject;
  readonly counters: Counters;
}

/**
 * OpenAI's rate-limit headers. When several limits apply (key and team, per minute and per day)
 * each header pair describes the one with the least room left.
 */
export function rateLimitHeaders(states: readonly SubjectState[], now: number): Record<string, string> {
  let req: { limit: number; remaining: number; resetMs: number } | undefined;
  let tok: typeof req;
  const consider = (cur: typeof req, limit: number, used: number, window: WindowKind) => {
    const cand = { limit, remaining: Math.max(0, limit - used), resetMs: msUntilReset(window, now) };
    return !cur || cand.remaining < cur.remaining ? cand : cur;
  };
  for (const { subject, counters } of states) {
    const l = subject.limits;
    if (l.rpm) req = consider(req, l.rpm, counters.requestsMinute, 'minute');
    if (l.tpm) tok = consider(tok, l.tpm, counters.tokensMinute, 'minute');
    if (l.tokensPerDay) tok = consider(tok, l.tokensPerDay, counters.tokensDay, 'day');
  }
  const h: Record<string, string> = {};
  if (req) {
    h['x-ratelimit-limit-requests'] = String(req.limit);
    h['x-ratelimit-remaining-requests'] = String(req.remaining);
    h['x-ratelimit-reset-requests'] = formatResetDuration(req.resetMs);
  }
  if (tok) {
    h['x-ratelimit-limit-tokens'] = String(tok.limit);
    h['x-ratelimit-remaining-tokens'] = String(tok.remaining);
    h['x-ratelimit-reset-tokens'] = formatResetDuration(tok.resetMs);
  }
  return h;
}

export interface LimitUsage {
  readonly limit: number | null;
  readonly used: number;
  readonly remaining: number | null;
  readonly resetsAt: string;
}

export interface BudgetUsage {
  readonly limitUsd: number | null;
  readonly period: 'day' | 'month';
  readonly spentUsd: number;
  readonly remainingUsd: number | null;
  readonly resetsAt: string;
}

/** A type alias (not an interface) so it fits the admin API's open `UsageReport` shape. */
export type SubjectUsage = {
  readonly rpm: LimitUsage;
  readonly tpm: LimitUsage;
  readonly tokensPerDay: LimitUsage;
  readonly budgetUsd: BudgetUsage;
  /** Spend in the other budget period, for context. */
  readonly spentUsd: { readonly day: number; readonly month: number };
  /** Reservations held right now (requests in flight). */
  readonly inFlight: number;
};

/** Consumption against each limit (admin usage endpoint). Unset limits show their consumption with `limit: null`. */
export function usageReport(limits: KeyLimits, counters: Counters, windows: WindowSet, inFlight: number): SubjectUsage {
  const at = (kind: WindowKind) => new Date(windowEnd(kind, windows[kind])).toISOString();
  const one = (limit: number | undefined, used: number, kind: WindowKind): LimitUsage => ({
    limit: limit ?? null,
    used,
    remaining: limit ? Math.max(0, limit - used) : null,
    resetsAt: at(kind),
  });
  const period = limits.budgetUsd?.period ?? 'month';
  const spent = period === 'day' ? counters.costDay : counters.costMonth;
  const toUsd = (nano: number) => Number((nano / NANO_PER_USD).toFixed(9));
  return {
    rpm: one(limits.rpm, counters.requestsMinute, 'minute'),
    tpm: one(limits.tpm, counters.tokensMinute, 'minute'),
    tokensPerDay: one(limits.tokensPerDay, counters.tokensDay, 'day'),
    budgetUsd: {
      limitUsd: limits.budgetUsd?.amount ?? null,
      period,
      spentUsd: toUsd(spent),
      remainingUsd: limits.budgetUsd ? Math.max(0, toUsd(Math.floor(limits.budgetUsd.amount * NANO_PER_USD) - spent)) : null,
      resetsAt: at(period),
    },
    spentUsd: { day: toUsd(counters.costDay), month: toUsd(counters.costMonth) },
    inFlight,
  };
}
