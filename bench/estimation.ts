/**
 * The reservation estimator on the hot path: the median time to estimate a 1 MB chat prompt,
 * as a ratio against JSON.parse of that same request body, measured in the same process and run
 * (the gateway parses every body anyway, so an estimate costing a fraction of the parse is lost
 * in it on any machine). Correctness (the estimate against real token counts) is a test:
 * test/runtime/limits/estimation.test.ts.
 */
import { performance } from 'node:perf_hooks';
import { estimatePromptTokens } from '../lambda/core/tokens';
import type { ChatRequest } from '../lambda/providers/types';
import { median } from './stats';

export interface EstimationReport {
  readonly bodyKb: number;
  readonly estimatedTokens: number;
  readonly estimateMs: number;
  readonly parseMs: number;
  readonly runs: number;
}

function timed(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export function estimationReport(runs: number): EstimationReport {
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(23_000); // ~1 MB
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
  const request = JSON.parse(body) as ChatRequest;
  let estimatedTokens = 0;
  // Warm both paths up, so the JIT has compiled the loops before anything is timed.
  for (let i = 0; i < 3; i++) {
    estimatedTokens = estimatePromptTokens(request);
    JSON.parse(body);
  }
  const estimates: number[] = [];
  const parses: number[] = [];
  // Interleaved, so a stall of the shared machine lands on both series alike.
  for (let i = 0; i < runs; i++) {
    estimates.push(timed(() => estimatePromptTokens(request)));
    parses.push(timed(() => JSON.parse(body)));
  }
  return { bodyKb: Buffer.byteLength(body) / 1024, estimatedTokens, estimateMs: median(estimates), parseMs: median(parses), runs };
}
