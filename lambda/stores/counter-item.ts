/**
 * The layout of a counters item (one per key, team and limited end user: pk `lim#key#<id>`,
 * `lim#team#<name>`, `lim#user#<key id>#<user id>`, each with `#<shard>` when spread).
 * Every window's counters live in one item, so a reservation is ONE conditional UpdateItem:
 *   rm<minute> tm<minute>   requests / tokens in that UTC minute
 *   td<day>    cd<day>      tokens / nano-USD in that UTC day
 *   co<month>               nano-USD in that UTC month
 *   inflight                string set of `<reservedAtSeconds>:<requestId>` for held reservations:
 *                           the idempotency guard (a retried write that already applied fails
 *                           its condition instead of counting twice) and the in-flight count
 *   expiresAt               TTL, pushed forward on every write, so idle items disappear
 * The window index is part of the attribute name, so a new window needs no reset: its attribute
 * simply does not exist yet. Attributes of past windows are removed by the next reservation.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type Counters, type SubjectKind, ZERO_COUNTERS } from '../core/limits/policy';
import type { WindowSet } from '../core/limits/windows';

export const subjectPk = (kind: SubjectKind, id: string, shard = 0): string => `lim#${kind}#${id}${shard ? `#${shard}` : ''}`;
export const teamConfigPk = (team: string): string => `team#${team}`;

export interface CounterNames {
  readonly requestsMinute: string;
  readonly tokensMinute: string;
  readonly tokensDay: string;
  readonly costDay: string;
  readonly costMonth: string;
}

export function counterNames(w: WindowSet): CounterNames {
  return { requestsMinute: `rm${w.minute}`, tokensMinute: `tm${w.minute}`, tokensDay: `td${w.day}`, costDay: `cd${w.day}`, costMonth: `co${w.month}` };
}

export const INFLIGHT = 'inflight';
export const TTL_ATTRIBUTE = 'expiresAt';
/** Idle counter items live this long (longer than the longest window, a month). */
export const ITEM_TTL_SECONDS = 40 * 86_400;
/** A reservation older than this was lost (its Lambda died): the Lambda limit is 15 minutes. */
export const MAX_RESERVATION_AGE_SECONDS = 20 * 60;

const WINDOW_ATTR = /^(rm|tm|td|cd|co)(\d+)$/;

const num = (v: AttributeValue | undefined): number => (v?.N !== undefined ? Number(v.N) : 0);

export function countersOf(item: Record<string, AttributeValue> | undefined, w: WindowSet): Counters {
  if (!item) return ZERO_COUNTERS;
  const n = counterNames(w);
  return {
    requestsMinute: num(item[n.requestsMinute]),
    tokensMinute: num(item[n.tokensMinute]),
    tokensDay: num(item[n.tokensDay]),
    costDay: num(item[n.costDay]),
    costMonth: num(item[n.costMonth]),
  };
}

export function inflightOf(item: Record<string, AttributeValue> | undefined): string[] {
  return item?.[INFLIGHT]?.SS ?? [];
}

/** Attributes of windows that have ended: the next write removes them, keeping the item small. */
export function staleWindowAttributes(item: Record<string, AttributeValue> | undefined, w: WindowSet): string[] {
  if (!item) return [];
  const current: Record<string, number> = { rm: w.minute, tm: w.minute, td: w.day, cd: w.day, co: w.month };
  const out: string[] = [];
  for (const name of Object.keys(item)) {
    const m = WINDOW_ATTR.exec(name);
    if (m && Number(m[2]) < current[m[1]]) out.push(name);
  }
  return out;
}

/** In-flight members older than the longest possible request: their owner died without settling. */
export function lostReservations(item: Record<string, AttributeValue> | undefined, nowSeconds: number): string[] {
  return inflightOf(item).filter((m) => nowSeconds - Number(m.split(':', 1)[0]) > MAX_RESERVATION_AGE_SECONDS);
}

export const inflightMember = (reservedAtMs: number, requestId: string): string => `${Math.floor(reservedAtMs / 1000)}:${requestId}`;
