/**
 * Authorizing a model against a key's globs (`modelAllowed`): the worst key the admin API accepts
 * (32 globs of 128 characters built to make a backtracking matcher go polynomial) against a 256
 * character model name, next to an ordinary key (`gpt-4o*`, `claude-*`) in the same run. Goal: the
 * worst key authorizes in under a millisecond. Best of three rounds, in this process.
 * Standalone: `node -r @swc-node/register bench/model-scope.ts`.
 */
import { performance } from 'node:perf_hooks';
import { type KeyRecord, modelAllowed } from '../lambda/core/keys';
import { MAX_GLOB_CHARS, MAX_MODEL_GLOBS } from '../lambda/core/glob';
import { MAX_MODEL_NAME_CHARS } from '../lambda/core/validate';

export const MODEL_SCOPE_WORST_TARGET_US = 1000;

export interface ModelScopeReport {
  readonly baselineUs: number;
  readonly rows: { readonly keyShape: string; readonly us: number }[];
  readonly worstUs: number;
  readonly worst: string;
}

const key = (models: string[]): KeyRecord => ({ id: 'k', name: 'k', createdAt: '', logging: 'metadata', hint: 'xxxx', models });

/** Globs that never match a run of `a`s but make a naive or backtracking matcher try hard. */
export function adversarialKeys(): Record<string, KeyRecord> {
  const n = MAX_MODEL_GLOBS;
  const len = MAX_GLOB_CHARS;
  return {
    '*a…ab* (long tail segment)': key(Array.from({ length: n }, (_, i) => `*${'a'.repeat(len - 4 - (i % 3))}b*`)),
    '*?a…ab* (wildcard segment)': key(Array.from({ length: n }, (_, i) => `*?${'a'.repeat(len - 5 - (i % 3))}b*`)),
    '*a?a…b* (wildcard inside)': key(Array.from({ length: n }, () => `*${'a'.repeat(len / 2 - 2)}?${'a'.repeat(len / 2 - 3)}b*`)),
    '*a*a*…*b (many stars)': key(Array.from({ length: n }, () => `${'*a'.repeat(len / 2 - 1)}b`)),
  };
}

function usPerAuthorize(record: KeyRecord, names: string[], minMs: number): number {
  for (const name of names) modelAllowed(record, name); // warm-up
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      modelAllowed(record, names[n % names.length]);
      n++;
      elapsed = performance.now() - t0;
    } while (elapsed < minMs);
    best = Math.min(best, (elapsed * 1000) / n);
  }
  return best;
}

export function modelScopeBench(opts: { minMs?: number } = {}): ModelScopeReport {
  const minMs = opts.minMs ?? 200;
  // Distinct names, so no layer can answer from a memo.
  const names = Array.from({ length: 64 }, (_, i) => 'a'.repeat(MAX_MODEL_NAME_CHARS - 3) + String(i).padStart(3, '0'));
  const baselineUs = usPerAuthorize(key(['gpt-4o*', 'claude-*']), names, minMs);
  const rows = Object.entries(adversarialKeys()).map(([keyShape, record]) => ({ keyShape, us: usPerAuthorize(record, names, minMs) }));
  const slowest = rows.reduce((a, b) => (b.us > a.us ? b : a));
  return { baselineUs, rows, worstUs: slowest.us, worst: slowest.keyShape };
}

export function renderModelScope(r: ModelScopeReport): string {
  const lines = [
    `Model-scope authorization (${MAX_MODEL_GLOBS} globs of ${MAX_GLOB_CHARS} chars, ${MAX_MODEL_NAME_CHARS}-char model names)`,
    '| key | µs / authorize | × ordinary key |',
    '|---|---:|---:|',
    `| ordinary (gpt-4o*, claude-*) | ${r.baselineUs.toFixed(2)} | 1.00 |`,
  ];
  for (const row of r.rows) lines.push(`| ${row.keyShape} | ${row.us.toFixed(2)} | ${(row.us / r.baselineUs).toFixed(1)} |`);
  const pass = r.worstUs < MODEL_SCOPE_WORST_TARGET_US;
  lines.push(`${pass ? 'PASS' : 'FAIL'} worst key (${r.worst}): ${r.worstUs.toFixed(1)} µs per authorize (goal < ${MODEL_SCOPE_WORST_TARGET_US} µs)`);
  return lines.join('\n');
}

if (require.main === module) console.log(renderModelScope(modelScopeBench()));
