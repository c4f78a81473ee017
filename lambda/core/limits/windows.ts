/**
 * Fixed UTC windows for limits: the minute (rpm, tpm), the day (tokensPerDay, daily budget) and
 * the calendar month (monthly budget). A window is identified by an integer index, so counters for
 * different windows get different attribute names and never need a reset.
 */
export type WindowKind = 'minute' | 'day' | 'month';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The index of the window containing `t` (ms since epoch). Months count from January 1970. */
export function windowIndex(kind: WindowKind, t: number): number {
  if (kind === 'minute') return Math.floor(t / MINUTE_MS);
  if (kind === 'day') return Math.floor(t / DAY_MS);
  const d = new Date(t);
  return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
}

/** When the window with this index ends (ms since epoch): the next window's start. */
export function windowEnd(kind: WindowKind, index: number): number {
  if (kind === 'minute') return (index + 1) * MINUTE_MS;
  if (kind === 'day') return (index + 1) * DAY_MS;
  const next = index + 1;
  return Date.UTC(1970 + Math.floor(next / 12), next % 12, 1);
}

/** Milliseconds from `t` to the end of its window. */
export function msUntilReset(kind: WindowKind, t: number): number {
  return windowEnd(kind, windowIndex(kind, t)) - t;
}

/** The indices of the three windows at `t`. */
export interface WindowSet {
  readonly minute: number;
  readonly day: number;
  readonly month: number;
}

export function windowsAt(t: number): WindowSet {
  return { minute: windowIndex('minute', t), day: windowIndex('day', t), month: windowIndex('month', t) };
}

/**
 * A duration in OpenAI's rate-limit header style: `20ms`, `6s`, `1m30s`, `3h0m5s`.
 * Sub-second values keep millisecond precision; anything longer is rounded up to whole seconds.
 */
export function formatResetDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  let s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
