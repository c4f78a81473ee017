/**
 * Usage figures (ARCHITECTURE §16) from rollup rows: per-day series with every day of the range
 * present (zero where nothing happened), totals, top models, per-key totals and recent requests.
 * The JSON of `GET /v1/usage` and `GET /admin/usage`, and what the usage page draws.
 */
import type { RecentRequest, UsageRow } from './rollups';

export interface DayTotals {
  readonly day: string;
  readonly requests: number;
  readonly errors: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly cacheHits: number;
  readonly cacheSavedUsd: number;
}

export interface UsageTotals extends Omit<DayTotals, 'day'> {
  readonly tokens: number;
  /** errors / requests, 0 with no requests. */
  readonly errorRate: number;
  /** cache hits / requests, 0 with no requests. */
  readonly cacheHitRate: number;
}

export interface ModelUsage {
  readonly model: string;
  readonly requests: number;
  readonly tokens: number;
  readonly costUsd: number;
}

export interface KeyUsage {
  readonly keyId: string;
  readonly keyName: string;
  readonly team: string | null;
  readonly requests: number;
  readonly errors: number;
  readonly tokens: number;
  readonly costUsd: number;
}

export interface UsageSummary {
  readonly fromDay: string;
  readonly toDay: string;
  readonly daily: readonly DayTotals[];
  readonly totals: UsageTotals;
  readonly models: readonly ModelUsage[];
  readonly keys: readonly KeyUsage[];
  readonly recent: readonly RecentRequest[];
}

/** Most models and recent requests a summary lists. */
export const TOP_MODELS = 10;
export const RECENT_LISTED = 20;

const DAY_MS = 86_400_000;
/** Sums of many float USD values drift; figures are rounded to a nano-dollar, as the counters count. */
const usd = (v: number) => Math.round(v * 1e9) / 1e9;

function emptyDay(day: string): DayTotals {
  return { day, requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, cacheHits: 0, cacheSavedUsd: 0 };
}

export function summarize(rows: readonly UsageRow[], fromDay: string, toDay: string): UsageSummary {
  const byDay = new Map<string, DayTotals>();
  for (let t = Date.parse(`${fromDay}T00:00:00Z`), end = Date.parse(`${toDay}T00:00:00Z`); t <= end; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    byDay.set(day, emptyDay(day));
  }
  const models = new Map<string, { requests: number; tokens: number; costUsd: number }>();
  const keys = new Map<string, { keyId: string; keyName: string; team: string | null; requests: number; errors: number; tokens: number; costUsd: number }>();
  const recent: RecentRequest[] = [];
  for (const row of rows) {
    const d = byDay.get(row.day);
    if (!d) continue; // outside the range asked for
    byDay.set(row.day, {
      day: row.day,
      requests: d.requests + row.requests,
      errors: d.errors + row.errors,
      promptTokens: d.promptTokens + row.promptTokens,
      completionTokens: d.completionTokens + row.completionTokens,
      costUsd: d.costUsd + row.costUsd,
      cacheHits: d.cacheHits + row.cacheHits,
      cacheSavedUsd: d.cacheSavedUsd + row.cacheSavedUsd,
    });
    for (const [model, m] of Object.entries(row.models)) {
      const acc = models.get(model) ?? { requests: 0, tokens: 0, costUsd: 0 };
      models.set(model, { requests: acc.requests + m.requests, tokens: acc.tokens + m.tokens, costUsd: acc.costUsd + m.costUsd });
    }
    const k = keys.get(row.keyId) ?? { keyId: row.keyId, keyName: row.keyName, team: row.team, requests: 0, errors: 0, tokens: 0, costUsd: 0 };
    k.requests += row.requests;
    k.errors += row.errors;
    k.tokens += row.promptTokens + row.completionTokens;
    k.costUsd += row.costUsd;
    // The newest row names the key as it is now called.
    k.keyName = row.keyName || k.keyName;
    keys.set(row.keyId, k);
    recent.push(...row.recent);
  }
  const daily = [...byDay.values()].map((d) => ({ ...d, costUsd: usd(d.costUsd), cacheSavedUsd: usd(d.cacheSavedUsd) }));
  const sum = (f: (d: DayTotals) => number) => daily.reduce((a, d) => a + f(d), 0);
  const requests = sum((d) => d.requests);
  const errors = sum((d) => d.errors);
  const cacheHits = sum((d) => d.cacheHits);
  const promptTokens = sum((d) => d.promptTokens);
  const completionTokens = sum((d) => d.completionTokens);
  return {
    fromDay,
    toDay,
    daily,
    totals: {
      requests,
      errors,
      errorRate: requests ? errors / requests : 0,
      promptTokens,
      completionTokens,
      tokens: promptTokens + completionTokens,
      costUsd: usd(sum((d) => d.costUsd)),
      cacheHits,
      cacheHitRate: requests ? cacheHits / requests : 0,
      cacheSavedUsd: usd(sum((d) => d.cacheSavedUsd)),
    },
    models: [...models.entries()]
      .map(([model, m]) => ({ model, requests: m.requests, tokens: m.tokens, costUsd: usd(m.costUsd) }))
      .sort((a, b) => b.costUsd - a.costUsd || b.requests - a.requests || a.model.localeCompare(b.model))
      .slice(0, TOP_MODELS),
    keys: [...keys.values()].map((k) => ({ ...k, costUsd: usd(k.costUsd) })).sort((a, b) => b.costUsd - a.costUsd || b.requests - a.requests),
    recent: recent.sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0)).slice(0, RECENT_LISTED),
  };
}
