/** Pure limit policy: windows, reset durations, room checks, most-restrictive choice, headers, answers. */
import {
  checksFor,
  maxBefore,
  mostRestrictive,
  rateLimitHeaders,
  refusalError,
  toNanoUsd,
  usageReport,
  violations,
  type Subject,
} from '../../../lambda/core/limits/policy';
import { formatResetDuration, msUntilReset, windowEnd, windowIndex, windowsAt } from '../../../lambda/core/limits/windows';

const T = Date.parse('2026-02-28T23:59:30.250Z');

test('windows: minute, UTC day and calendar month, with their ends', () => {
  expect(new Date(windowEnd('minute', windowIndex('minute', T))).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  expect(new Date(windowEnd('day', windowIndex('day', T))).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  expect(new Date(windowEnd('month', windowIndex('month', T))).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  expect(new Date(windowEnd('month', windowIndex('month', Date.parse('2026-12-15T00:00:00Z')))).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  expect(msUntilReset('minute', T)).toBe(29_750);
  expect(windowsAt(T).month).toBe((2026 - 1970) * 12 + 1);
});

test('reset durations in OpenAI style', () => {
  expect(formatResetDuration(20)).toBe('20ms');
  expect(formatResetDuration(6_000)).toBe('6s');
  expect(formatResetDuration(90_000)).toBe('1m30s');
  expect(formatResetDuration(3 * 3600_000 + 5_000)).toBe('3h0m5s');
  expect(formatResetDuration(0)).toBe('0s');
});

const key: Subject = { kind: 'key', id: 'k1', label: 'app', limits: { rpm: 10, tpm: 1000, tokensPerDay: 5000, budgetUsd: { amount: 1, period: 'day' } } };
const need = { requests: 1, tokens: 300, nanoUsd: toNanoUsd(0.2) };

test('room: rate limits admit one oversized request into an empty window; budgets never over-admit', () => {
  const checks = checksFor(key.limits, need);
  expect(checks.map((c) => c.name)).toEqual(['rpm', 'tpm', 'tokensPerDay', 'budgetUsd']);
  expect(maxBefore(checks[1])).toBe(700);
  const huge = checksFor({ tpm: 100, budgetUsd: { amount: 0.1, period: 'month' } }, need);
  expect(maxBefore(huge[0])).toBe(0); // admitted only into an empty minute
  expect(maxBefore(huge[1])).toBeLessThan(0); // can never fit
  const counters = { requestsMinute: 10, tokensMinute: 600, tokensDay: 100, costDay: toNanoUsd(0.9), costMonth: 0 };
  expect(violations(checks, counters).map((c) => c.name)).toEqual(['rpm', 'budgetUsd']);
});

test('most restrictive = lasts longest; ties go to the longer window, then to a budget', () => {
  const checks = checksFor(key.limits, need);
  const r = (name: string) => ({ subject: key, check: checks.find((c) => c.name === name)!, used: 0 });
  const noon = Date.parse('2026-02-10T12:00:30Z');
  expect(mostRestrictive([r('rpm'), r('tpm'), r('tokensPerDay')], noon).check.name).toBe('tokensPerDay');
  expect(mostRestrictive([r('tokensPerDay'), r('budgetUsd')], noon).check.name).toBe('budgetUsd');
  // At 23:59:30 the minute and the day end together: the longer window is still the answer.
  expect(mostRestrictive([r('rpm'), r('tokensPerDay')], T).check.name).toBe('tokensPerDay');
});

test('answers: 429 rate_limit_exceeded with Retry-After to the window end; insufficient_quota naming the budget and its reset', () => {
  const checks = checksFor(key.limits, need);
  const rate = refusalError({ subject: key, check: checks[1], used: 800 }, T, {});
  expect(rate.status).toBe(429);
  expect(rate.code).toBe('rate_limit_exceeded');
  expect(rate.retryAfterSeconds).toBe(30);
  expect(rate.message).toContain("tokens per minute (tpm) on key 'app': limit 1000 tokens, used 800");
  const budget = refusalError({ subject: { ...key, kind: 'team', label: 'research' }, check: checks[3], used: toNanoUsd(0.95) }, T, {});
  expect(budget.code).toBe('insufficient_quota');
  expect(budget.message).toContain("daily budget of team 'research'");
  expect(budget.message).toContain('$0.9500 of $1.0000');
  expect(budget.message).toContain('resets at 2026-03-01T00:00:00.000Z');
  expect(budget.headers['x-gateway-limit']).toBe('team:budgetUsd');
});

test('headers describe the limit with the least room, across key and team', () => {
  const team: Subject = { kind: 'team', id: 't', label: 't', limits: { rpm: 100, tpm: 500 } };
  const h = rateLimitHeaders(
    [
      { subject: key, counters: { requestsMinute: 3, tokensMinute: 100, tokensDay: 4900, costDay: 0, costMonth: 0 } },
      { subject: team, counters: { requestsMinute: 50, tokensMinute: 450, tokensDay: 0, costDay: 0, costMonth: 0 } },
    ],
    T,
  );
  expect(h).toEqual({
    'x-ratelimit-limit-requests': '10',
    'x-ratelimit-remaining-requests': '7',
    'x-ratelimit-reset-requests': '30s',
    'x-ratelimit-limit-tokens': '500',
    'x-ratelimit-remaining-tokens': '50',
    'x-ratelimit-reset-tokens': '30s',
  });
  expect(rateLimitHeaders([], T)).toEqual({});
});

test('usage report shows consumption against every limit, unset ones with limit null', () => {
  const u = usageReport(
    { tpm: 1000 },
    { requestsMinute: 2, tokensMinute: 300, tokensDay: 900, costDay: toNanoUsd(0.25), costMonth: toNanoUsd(1.5) },
    windowsAt(T),
    1,
  );
  expect(u.tpm).toEqual({ limit: 1000, used: 300, remaining: 700, resetsAt: '2026-03-01T00:00:00.000Z' });
  expect(u.rpm).toMatchObject({ limit: null, used: 2, remaining: null });
  expect(u.budgetUsd).toMatchObject({ limitUsd: null, period: 'month', spentUsd: 1.5 });
  expect(u.spentUsd).toEqual({ day: 0.25, month: 1.5 });
  expect(u.inFlight).toBe(1);
});
