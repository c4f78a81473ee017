/**
 * `ai-gateway logs`: the last requests from the local log, filtered by key, model, status and
 * time; `--follow` keeps printing new ones; `--json` prints one record per line (JSONL).
 */
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { RequestLogRecord } from '../../lambda/core/log-record';
import { logFiles, logsDirFor, parseRecords, readRecords } from './log-reader';
import { formatUsage, usageByKeyPerDay } from './usage';
import { printable, terminalJson } from './terminal-safe';

export interface LogFilter {
  /** Key id or key name. */
  readonly key?: string;
  /** Requested model, serving model or provider/model; `*` matches any run of characters. */
  readonly model?: string;
  /** Comma list of statuses, classes (`4xx`), `ok` (< 400) or `error` (>= 400). */
  readonly status?: string;
  /** ISO time, or a duration back from now: `30m`, `6h`, `7d`. */
  readonly since?: string;
}

export class LogFilterError extends Error {}

const globToRegExp = (glob: string) =>
  new RegExp(
    '^' +
      glob
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
    'i',
  );

export function parseStatusFilter(spec: string): (status: number) => boolean {
  const tests = spec.split(',').map((part) => {
    const p = part.trim().toLowerCase();
    if (p === 'ok') return (s: number) => s < 400;
    if (p === 'error' || p === 'errors') return (s: number) => s >= 400;
    if (/^[1-5]xx$/.test(p)) return (s: number) => Math.floor(s / 100) === Number(p[0]);
    if (/^\d{3}$/.test(p)) return (s: number) => s === Number(p);
    throw new LogFilterError(`--status '${part}' is not a status, a class like 4xx, 'ok' or 'error'`);
  });
  return (s) => tests.some((t) => t(s));
}

/** `--since` as an ISO instant. */
export function parseSince(spec: string, now: number): string {
  const rel = /^(\d+)\s*([smhd])$/.exec(spec.trim());
  if (rel) return new Date(now - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  const t = Date.parse(spec);
  if (Number.isNaN(t)) throw new LogFilterError(`--since '${spec}' is neither an ISO time nor a duration like 30m, 6h, 7d`);
  return new Date(t).toISOString();
}

export function recordFilter(filter: LogFilter, now = Date.now()): { matches: (r: RequestLogRecord) => boolean; sinceDay?: string } {
  const status = filter.status ? parseStatusFilter(filter.status) : undefined;
  const model = filter.model ? globToRegExp(filter.model) : undefined;
  const since = filter.since ? parseSince(filter.since, now) : undefined;
  const matches = (r: RequestLogRecord) =>
    (!filter.key || r.key_id === filter.key || r.key_name === filter.key) &&
    (!model || [r.requested_model, r.model, r.provider && r.model ? `${r.provider}/${r.model}` : null].some((m) => m !== null && model.test(m))) &&
    (!status || status(r.status)) &&
    (!since || r.ts >= since);
  return { matches, sinceDay: since?.slice(0, 10) };
}

/** The last `limit` matching records, oldest first. */
export function tailRecords(logsDir: string, filter: LogFilter | ReturnType<typeof recordFilter>, limit: number, now = Date.now()): RequestLogRecord[] {
  const { matches, sinceDay } = 'matches' in filter ? filter : recordFilter(filter, now);
  const found = readRecords(logsDir, sinceDay).filter(matches);
  return limit > 0 ? found.slice(-limit) : found;
}

const fmtCost = (c: number | null) => (c === null ? '-' : `$${c.toFixed(6)}`);

/** One line per request: time, status, key, model route, tokens, cost, latency, id, error. */
export function formatRecord(r: RequestLogRecord): string {
  return formatFields(r).map(printable).join('  ');
}

function formatFields(r: RequestLogRecord): string[] {
  const served = r.provider ? `${r.provider}/${r.model}` : '-';
  const routed = r.provider && r.requested_model && r.requested_model !== r.model && r.requested_model !== served;
  const route = routed ? `${r.requested_model} → ${served}` : r.provider ? served : (r.requested_model ?? '-');
  const tokens = r.prompt_tokens === null && r.completion_tokens === null ? '-' : `${r.prompt_tokens ?? 0}+${r.completion_tokens ?? 0} tok`;
  const attempts = (JSON.parse(r.attempts || '[]') as unknown[]).length;
  return [
    r.ts.replace('T', ' ').replace('Z', ''),
    String(r.status).padEnd(3),
    (r.key_name ?? r.key_id ?? '-').padEnd(14),
    route.padEnd(32),
    tokens.padEnd(14),
    fmtCost(r.cost_usd).padStart(10),
    `${r.latency_ms}ms`.padStart(8),
    r.stream ? 'stream' : 'json  ',
    attempts > 1 ? `${attempts} attempts` : '',
    r.request_id,
    r.error_code ?? '',
  ].filter((s) => s !== '');
}

/**
 * New records as they are appended (for --follow): remembers how far each file was read.
 * `poll()` returns the complete lines added since the last call, in file order.
 */
export class LogFollower {
  private readonly offsets = new Map<string, number>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly logsDir: string,
    private readonly filter: (r: RequestLogRecord) => boolean,
  ) {
    for (const f of logFiles(logsDir)) this.offsets.set(f, statSync(f).size);
  }

  poll(): RequestLogRecord[] {
    const out: RequestLogRecord[] = [];
    for (const file of logFiles(this.logsDir)) {
      const from = this.offsets.get(file) ?? 0;
      const size = statSync(file).size;
      if (size <= from) continue;
      const buf = Buffer.alloc(size - from);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      // Only complete lines: a line still being appended is read on the next poll.
      const end = buf.lastIndexOf(0x0a) + 1;
      this.offsets.set(file, from + end);
      for (const r of parseRecords(buf.subarray(0, end).toString('utf8'))) {
        if (this.seen.has(r.request_id) || !this.filter(r)) continue;
        this.seen.add(r.request_id);
        out.push(r);
      }
    }
    return out;
  }
}

export interface LogsCommandOptions {
  readonly logsDir: string;
  readonly filter: LogFilter;
  readonly limit: number;
  readonly json: boolean;
  readonly follow: boolean;
  readonly print: (line: string) => void;
  /** Follow until this aborts (the CLI: SIGINT). */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

export async function logsCommand(o: LogsCommandOptions): Promise<void> {
  const show = (r: RequestLogRecord) => o.print(o.json ? terminalJson(r) : formatRecord(r));
  const filter = recordFilter(o.filter);
  const follower = o.follow ? new LogFollower(o.logsDir, filter.matches) : undefined;
  const records = tailRecords(o.logsDir, filter, o.limit);
  if (!records.length && !o.json && !o.follow) o.print(`No matching requests in ${o.logsDir}.`);
  records.forEach(show);
  if (!follower) return;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => follower.poll().forEach(show), o.pollMs ?? 500);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    if (o.signal?.aborted) stop();
    o.signal?.addEventListener('abort', stop, { once: true });
  });
}

/** The flags `logs` and `usage` take (parsed by bin/ai-gateway.ts). */
export interface LogCliFlags {
  readonly 'data-dir'?: string;
  readonly key?: string;
  readonly model?: string;
  readonly status?: string;
  readonly since?: string;
  readonly limit?: string;
  readonly follow?: boolean;
  readonly json?: boolean;
}

/** `ai-gateway logs` and `ai-gateway usage` against the local log. */
export async function runLogCli(cmd: 'logs' | 'usage', v: LogCliFlags, print: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const logsDir = logsDirFor(process.env, v['data-dir']);
  const filter: LogFilter = { key: v.key, model: v.model, status: v.status, since: v.since };
  if (cmd === 'usage') {
    const rows = usageByKeyPerDay(tailRecords(logsDir, filter, 0));
    return print(v.json ? terminalJson(rows, 2) : formatUsage(rows));
  }
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new LogFilterError('--limit must be a whole number (0 = all)');
  await logsCommand({ logsDir, filter, limit, json: v.json === true, follow: v.follow === true, print, signal });
}
