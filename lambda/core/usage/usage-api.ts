/**
 * The usage API (ARCHITECTURE §16): `GET /v1/usage?days=N` answers for the presented virtual key
 * (its own usage, its team's, and its limits with what is left); presented with an admin
 * credential (the local admin token, or a short-lived usage-page session) it answers for any key
 * or team, like `GET /admin/usage?days=N&key=&team=` on the admin API.
 *
 * Reads cost one Query of the usage table (a key's page reads its scope's rows once and picks its
 * own out); the admin's "everything" view is a Scan. These reads are not LLM calls: they are not
 * counted against limits and leave no request record.
 */
import { GatewayError, errors } from '../errors';
import { type KeyRecord, type KeyStore, type KeyVerifier, extractPresentedKey } from '../keys';
import { type UsageRollups, dayRange } from './rollups';
import { type UsageSummary, summarize } from './report';

/** Reads a key's current consumption against its limits (the limiter implements it). */
export interface LimitsReader {
  usage(key: KeyRecord): Promise<Readonly<Record<string, unknown>>>;
}

export interface UsageApiDeps {
  readonly rollups: UsageRollups;
  readonly keyStore: KeyStore;
  readonly verifier: KeyVerifier;
  readonly limits?: LimitsReader;
  readonly now: () => number;
}

export const MAX_USAGE_DAYS = 366;
export const DEFAULT_USAGE_DAYS = 30;

/** `days` from the query string: an integer 1–366 (default 30), anything else a 400. */
export function parseDays(params: URLSearchParams): number {
  const raw = params.get('days');
  if (raw === null) return DEFAULT_USAGE_DAYS;
  const days = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_DAYS)
    throw errors.badRequest(`'days' must be a whole number from 1 to ${MAX_USAGE_DAYS}.`, 'days', 'invalid_days');
  return days;
}

const keyInfo = (k: KeyRecord) => ({ id: k.id, name: k.name, team: k.team ?? null, revoked: !!k.revokedAt, expiresAt: k.expiresAt ?? null });

export interface KeyUsageView {
  readonly object: 'usage';
  readonly scope: 'key';
  readonly days: number;
  readonly key: ReturnType<typeof keyInfo>;
  /** The limiter's view of the key's limits: limit, used, remaining, resetsAt per limit. */
  readonly limits: Readonly<Record<string, unknown>> | null;
  readonly usage: UsageSummary;
  /** The key's team as a whole, when it has one. */
  readonly team: { readonly name: string; readonly usage: UsageSummary } | null;
}

export interface AdminUsageView {
  readonly object: 'usage';
  readonly scope: 'admin';
  readonly days: number;
  readonly filter: { readonly key: string | null; readonly team: string | null };
  readonly key: (ReturnType<typeof keyInfo> & { readonly limits: Readonly<Record<string, unknown>> | null }) | null;
  readonly usage: UsageSummary;
}

export function createUsageApi(deps: UsageApiDeps) {
  async function limitsOf(key: KeyRecord) {
    if (!deps.limits || !key.limits || !Object.keys(key.limits).length) return null;
    return deps.limits.usage(key);
  }

  /** The presented virtual key's own view (its team's too). Unknown/revoked keys fail as on /v1. */
  async function forKey(req: Request, params: URLSearchParams): Promise<KeyUsageView> {
    const days = parseDays(params);
    let key: KeyRecord;
    try {
      key = await deps.verifier.verify(extractPresentedKey(req.headers));
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw errors.unavailable('The gateway cannot verify API keys right now. Retry shortly.', 1, 'key_store_unavailable');
    }
    const range = dayRange(deps.now(), days);
    const [rows, limits] = await Promise.all([deps.rollups.query({ ...range, team: key.team ?? null, keyId: key.team ? undefined : key.id }), limitsOf(key)]);
    const own = rows.filter((r) => r.keyId === key.id);
    return {
      object: 'usage',
      scope: 'key',
      days,
      key: keyInfo(key),
      limits,
      usage: summarize(own, range.fromDay, range.toDay),
      team: key.team ? { name: key.team, usage: summarize(rows, range.fromDay, range.toDay) } : null,
    };
  }

  /** Any key's, any team's or everyone's usage: for admin credentials only (the caller checked). */
  async function forAdmin(params: URLSearchParams): Promise<AdminUsageView> {
    const days = parseDays(params);
    const keyId = params.get('key') || null;
    const team = params.get('team') || null;
    const range = dayRange(deps.now(), days);
    let key: KeyRecord | undefined;
    if (keyId) {
      key = await deps.keyStore.get(keyId);
      if (!key) throw new GatewayError({ status: 404, type: 'not_found_error', code: 'key_not_found', message: `No key with id '${keyId}'.`, param: 'key' });
      if (team && key.team !== team) throw errors.badRequest(`Key '${keyId}' is not in team '${team}'.`, 'team');
    }
    const rows = key
      ? await deps.rollups.query({ ...range, team: key.team ?? null, keyId: key.id })
      : team
        ? await deps.rollups.query({ ...range, team })
        : await deps.rollups.query(range);
    return {
      object: 'usage',
      scope: 'admin',
      days,
      filter: { key: keyId, team },
      key: key ? { ...keyInfo(key), limits: await limitsOf(key) } : null,
      usage: summarize(key ? rows.filter((r) => r.keyId === key.id) : rows, range.fromDay, range.toDay),
    };
  }

  return { forKey, forAdmin };
}

export type UsageApi = ReturnType<typeof createUsageApi>;
