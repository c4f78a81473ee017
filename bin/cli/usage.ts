/**
 * `ai-gateway usage`: spend and tokens per key per day from the local request log — the local
 * counterpart of the Athena query 'spend-by-key-per-day' (same de-duplication on request_id).
 */
import type { RequestLogRecord } from '../../lambda/core/log-record';
import { printable } from './terminal-safe';

export interface UsageRow {
  day: string;
  key_id: string;
  key_name: string | null;
  team: string | null;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  /** Requests whose model has no known price (cost unknown, not zero). */
  unpriced: number;
}

/** Rows per (day, key), newest day first, then by spend. Requests without a key (401s) are not usage. */
export function usageByKeyPerDay(records: readonly RequestLogRecord[]): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const r of records) {
    if (!r.key_id) continue;
    const day = r.ts.slice(0, 10);
    const id = `${day} ${r.key_id}`;
    let row = rows.get(id);
    if (!row) {
      row = {
        day,
        key_id: r.key_id,
        key_name: r.key_name,
        team: r.team,
        requests: 0,
        errors: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        cost_usd: 0,
        unpriced: 0,
      };
      rows.set(id, row);
    }
    row.requests++;
    if (r.status >= 400) row.errors++;
    row.prompt_tokens += r.prompt_tokens ?? 0;
    row.completion_tokens += r.completion_tokens ?? 0;
    row.total_tokens += r.total_tokens ?? 0;
    if (r.cost_usd !== null) row.cost_usd += r.cost_usd;
    else if (r.total_tokens) row.unpriced++;
  }
  for (const row of rows.values()) row.cost_usd = Number(row.cost_usd.toFixed(8));
  return [...rows.values()].sort((a, b) => (a.day !== b.day ? (a.day < b.day ? 1 : -1) : b.cost_usd - a.cost_usd));
}

export function formatUsage(rows: readonly UsageRow[]): string {
  if (!rows.length) return 'No usage in the local log.';
  const header = ['day', 'key', 'team', 'requests', 'errors', 'prompt', 'completion', 'total', 'cost (USD)'];
  const lines = rows.map((r) => [
    printable(r.day),
    printable(r.key_name ? `${r.key_name} (${r.key_id})` : r.key_id),
    printable(r.team ?? '-'),
    String(r.requests),
    String(r.errors),
    String(r.prompt_tokens),
    String(r.completion_tokens),
    String(r.total_tokens),
    r.cost_usd.toFixed(6) + (r.unpriced ? ` (+${r.unpriced} unpriced)` : ''),
  ]);
  const total = rows.reduce((s, r) => s + r.cost_usd, 0);
  const tokens = rows.reduce((s, r) => s + r.total_tokens, 0);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(header), ...lines.map(fmt), '', `total: ${tokens} tokens, $${total.toFixed(6)}`].join('\n');
}
