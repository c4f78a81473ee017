/** Human-readable output for the CLI (`--json` prints the API's JSON instead); printed through terminal-safe.ts. */
import { printable, say } from './terminal-safe';

type Rec = Record<string, unknown>;

function limitsText(l: unknown): string {
  if (!l || typeof l !== 'object') return 'none';
  const x = l as Rec;
  const parts: string[] = [];
  if (x.rpm) parts.push(`${x.rpm} req/min`);
  if (x.tpm) parts.push(`${x.tpm} tok/min`);
  if (x.tokensPerDay) parts.push(`${x.tokensPerDay} tok/day`);
  const b = x.budgetUsd as Rec | undefined;
  if (b) parts.push(`$${b.amount}/${b.period}`);
  if (x.perUser && typeof x.perUser === 'object') parts.push(`per user: ${limitsText(x.perUser)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function status(r: Rec): string {
  if (r.revokedAt) return 'revoked';
  if (r.expiresAt && Date.parse(String(r.expiresAt)) <= Date.now()) return 'expired';
  return 'active';
}

/** A header row and its rows, each column padded to its widest cell. */
function printTable(head: string[], cells: string[][], indent: string): void {
  const rows = cells.map((r) => r.map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) say(indent + r.map((c, i) => c.padEnd(widths[i])).join('  '));
}

export function printKey(r: Rec, showSecret: boolean): void {
  if (showSecret && r.key) {
    say(`Key ${r.id} (${r.name}) — copy it now, it is not shown again:\n\n  ${r.key}\n`);
    if (r.previousKeyValidUntil) say(`The previous key keeps working until ${r.previousKeyValidUntil}.`);
  }
  const rows: [string, unknown][] = [
    ['id', r.id],
    ['name', r.name],
    ['team', r.team ?? '-'],
    ['status', status(r)],
    ['key', `sk-gw-…${r.hint}`],
    ['models', (r.models as string[] | undefined)?.join(', ') || 'all'],
    ['limits', limitsText(r.limits)],
    ['logging', r.logging],
    ['usable', usableText(r)],
    ['users', endUsersText(r)],
    ['created', r.createdAt],
    ['expires', r.expiresAt ?? 'never'],
  ];
  if (r.revokedAt) rows.push(['revoked', r.revokedAt]);
  for (const [k, v] of rows) say(`  ${k.padEnd(8)} ${printable(v)}`);
}

/** Where the key's end users (user_id, per-user limits) come from. */
function endUsersText(r: Rec): string {
  const from = [r.oidcClientId ? "the JWT's user claim" : '', r.trustUserHeader ? "x-gateway-user (else the body's user) with the key" : ''].filter(Boolean);
  return from.length ? from.join('; ') : 'not tracked';
}

/** How the key can be presented: its plaintext, a JWT of its OIDC application, or both. */
function usableText(r: Rec): string {
  const ways = Array.isArray(r.usableWith) ? (r.usableWith as string[]) : ['key'];
  return ways.map((w) => (w === 'jwt' ? `JWT (OIDC client ${r.oidcClientId})` : 'key')).join(' or ');
}

export function printKeyList(list: Rec[]): void {
  if (!list.length) {
    say('No keys yet. Create one with: ai-gateway keys create --name my-app');
    return;
  }
  const rows = list.map((r) => [String(r.id), String(r.name), String(r.team ?? '-'), status(r), `…${r.hint}`, limitsText(r.limits)]);
  printTable(['ID', 'NAME', 'TEAM', 'STATUS', 'KEY', 'LIMITS'], rows, '');
}

function usageRows(u: Rec): string[][] {
  const rows: string[][] = [];
  const lim = (name: string, unit: string) => {
    const x = u[name] as Rec | undefined;
    if (!x) return;
    rows.push([name, x.limit === null ? '-' : `${x.limit} ${unit}`, String(x.used), x.remaining === null ? '-' : String(x.remaining), String(x.resetsAt)]);
  };
  lim('rpm', 'req/min');
  lim('tpm', 'tok/min');
  lim('tokensPerDay', 'tok/day');
  const b = u.budgetUsd as Rec | undefined;
  if (b)
    rows.push([
      `budget/${b.period}`,
      b.limitUsd === null ? '-' : `$${b.limitUsd}`,
      `$${Number(b.spentUsd).toFixed(4)}`,
      b.remainingUsd === null ? '-' : `$${Number(b.remainingUsd).toFixed(4)}`,
      String(b.resetsAt),
    ]);
  return rows;
}

function printUsageTable(u: Rec, indent: string): void {
  printTable(['LIMIT', 'SET TO', 'USED', 'REMAINING', 'RESETS AT'], usageRows(u), indent);
  if (typeof u.inFlight === 'number') say(`${indent}in flight: ${u.inFlight} request(s)`);
}

/** Current consumption against each limit of a key (and of its team). */
export function printUsage(r: Rec): void {
  const u = (r.usage ?? {}) as Rec;
  say(`Usage of ${r.id}:`);
  printUsageTable(u, '  ');
  const team = u.team as Rec | undefined;
  if (team) {
    say(`Team ${team.name} (${limitsText(team.limits)}):`);
    printUsageTable((team.usage ?? {}) as Rec, '  ');
  }
}

export function printTeam(r: Rec): void {
  say(`  team     ${r.team}`);
  say(`  limits   ${limitsText(r.limits)}`);
  if (r.updatedAt) say(`  updated  ${r.updatedAt}`);
}
