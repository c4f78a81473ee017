/**
 * The admin API (ARCHITECTURE §6): issue, list, show, patch, revoke and rotate virtual keys.
 * Transport decides who may call it (IAM on AWS, a bearer token locally); see `authorize`.
 */
import { jsonResponse } from './buffered-response';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError, errors, renderError, toGatewayError } from './errors';
import { parseJsonObject, readBodyText, readJsonObject } from './body';
import {
  type KeyLimits,
  type KeyRecord,
  type KeyStore,
  type KeyVerifier,
  type LoggingPolicy,
  OidcClientTakenError,
  type UserLimits,
  generateKey,
  hashKey,
  keyHint,
  keyUsableWith,
  newKeyId,
} from './keys';
import type { Logger } from './ports';
import type { TeamLimitsStore } from './limits/teams';
import { silentLogger } from './ports';
import { newRequestId } from './request-id';
import { ADMIN_ROUTES, CACHE_ADMIN_ROUTES } from '../contract/admin-routes';
import { pathOf } from './url-path';
import type { UsageApi } from './usage/usage-api';
import type { UiSessions } from './usage/ui-sessions';
import type { CachePurgeFilter } from './cache/ports';

export interface UsageReport {
  readonly [limit: string]: unknown;
}

/** Reads current consumption against a key's limits (the counters store implements it). */
export interface UsageReader {
  usage(key: KeyRecord): Promise<UsageReport>;
}

export interface AdminDeps {
  readonly keyStore: KeyStore;
  /** The gateway's verifier in the same process, so changes take effect on the next request. */
  readonly verifier?: KeyVerifier;
  readonly usage?: UsageReader;
  /** Team limits (`GET|PUT /admin/teams/{team}`); absent means the routes answer 404. */
  readonly teams?: TeamLimitsStore;
  /** Usage figures for `GET /admin/usage?days=N&key=&team=`; absent, that route answers 404. */
  readonly usageApi?: UsageApi;
  /** Mints usage-page admin sessions (`POST /admin/ui-links`); absent, that route answers 404. */
  readonly uiSessions?: UiSessions;
  /** Removes response cache entries (`POST /admin/cache/purge`); absent (no cache), that route answers 404. */
  readonly cache?: { purge(filter: CachePurgeFilter): Promise<number> };
  /** Decides whether the caller is an admin. Locally: bearer token; on AWS API Gateway has already checked IAM. */
  readonly authorize: (req: Request) => boolean;
  readonly now?: () => number;
  readonly logger?: Logger;
}

const LOGGING: readonly LoggingPolicy[] = ['full', 'metadata', 'redacted'];
const MAX_GRACE_SECONDS = 7 * 24 * 3600;

/** Constant-time bearer token check for the local admin API. */
export function bearerTokenAuthorizer(token: string): (req: Request) => boolean {
  const want = createHash('sha256').update(token).digest();
  return (req) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '');
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1].trim()).digest(), want);
  };
}

function bad(message: string, param: string) {
  return errors.badRequest(message, param);
}

const LIMIT_NAMES = ['rpm', 'tpm', 'tokensPerDay', 'budgetUsd'];
/** Largest budget accepted: a finite number money can mean (1e309 parses as Infinity). */
const MAX_BUDGET_USD = 1e9;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A PATCH's `limits` merged onto the key's current ones (§6): each limit on its own, `budgetUsd`
 * and `perUser` field by field, `null` removing one; a limit the body leaves out keeps its value.
 * Names are checked first, so `__proto__` can never reach an assignment.
 */
export function mergeLimits(current: Record<string, unknown>, patch: Record<string, unknown>, at = 'limits', allowPerUser = true): Record<string, unknown> {
  const known = allowPerUser ? [...LIMIT_NAMES, 'perUser'] : LIMIT_NAMES;
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (!known.includes(k)) throw bad(`'${at}.${k}' is not a known limit (${known.join(', ')}).`, `${at}.${k}`);
    if (v === null) delete out[k];
    else if (k === 'budgetUsd' && isObject(v) && isObject(current.budgetUsd)) out[k] = { ...current.budgetUsd, ...v };
    else if (k === 'perUser' && isObject(v)) out[k] = mergeLimits(isObject(current.perUser) ? current.perUser : {}, v, `${at}.perUser`, false);
    else out[k] = v;
  }
  return out;
}

/** `limits` (or, nested, `limits.perUser`, which may not nest again); `at` names the field in errors. */
function validateLimitSet(v: unknown, at: string, allowPerUser: boolean): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`'${at}' must be an object.`, at);
  const l = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const known = allowPerUser ? [...LIMIT_NAMES, 'perUser'] : LIMIT_NAMES;
  for (const k of Object.keys(l)) if (!known.includes(k)) throw bad(`'${at}.${k}' is not a known limit (${known.join(', ')}).`, `${at}.${k}`);
  for (const k of ['rpm', 'tpm', 'tokensPerDay']) {
    if (l[k] === undefined || l[k] === null) continue;
    if (!Number.isSafeInteger(l[k]) || (l[k] as number) <= 0) throw bad(`'${at}.${k}' must be a positive integer (at most 2^53 - 1).`, `${at}.${k}`);
    out[k] = l[k];
  }
  if (l.budgetUsd !== undefined && l.budgetUsd !== null) {
    const b = l.budgetUsd as Record<string, unknown>;
    if (
      typeof b !== 'object' ||
      Object.keys(b).some((k) => k !== 'amount' && k !== 'period') ||
      typeof b.amount !== 'number' ||
      !(b.amount > 0 && b.amount <= MAX_BUDGET_USD) ||
      (b.period !== 'day' && b.period !== 'month')
    )
      throw bad(`'${at}.budgetUsd' must be { amount: number > 0 and at most ${MAX_BUDGET_USD}, period: 'day' | 'month' }.`, `${at}.budgetUsd`);
    out.budgetUsd = { amount: b.amount, period: b.period };
  }
  if (allowPerUser && l.perUser !== undefined && l.perUser !== null) {
    const perUser = validateLimitSet(l.perUser, `${at}.perUser`, false) as UserLimits;
    if (Object.keys(perUser).length) out.perUser = perUser;
  }
  return out;
}

function validateLimits(v: unknown): KeyLimits | undefined {
  if (v === undefined || v === null) return undefined;
  return validateLimitSet(v, 'limits', true) as KeyLimits;
}

/** Team limits apply to the team as a whole: per-user limits belong on a key. */
function validateTeamLimits(v: unknown): KeyLimits {
  if (v === undefined || v === null) return {};
  return validateLimitSet(v, 'limits', false) as KeyLimits;
}

/** An OIDC client id as issuers print them (Okta, Cognito, Entra ID GUIDs, Auth0): visible ASCII, no spaces. */
function validateOidcClientId(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(v))
    throw bad("'oidcClientId' must be the application's client id: 1 to 256 visible ASCII characters, no spaces.", 'oidcClientId');
  return v;
}

function validateTrustUserHeader(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad("'trustUserHeader' must be true or false.", 'trustUserHeader');
  return v;
}

/** Bounds on a key's model scope, so authorizing a request stays well under a millisecond (bench/model-scope.ts). */
export const MAX_MODEL_GLOBS = 32;
export const MAX_MODEL_GLOB_CHARS = 128;

function validateModels(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > MAX_MODEL_GLOBS || !v.every((g) => typeof g === 'string' && g.length > 0 && g.length <= MAX_MODEL_GLOB_CHARS))
    throw bad(`'models' must be a list of at most ${MAX_MODEL_GLOBS} model name globs of 1 to ${MAX_MODEL_GLOB_CHARS} characters.`, 'models');
  return v;
}

function validateExpiry(v: unknown, now: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw bad("'expiresAt' must be an ISO-8601 date-time.", 'expiresAt');
  if (t <= now) throw bad("'expiresAt' must be in the future.", 'expiresAt');
  return new Date(t).toISOString();
}

const MAX_KEY_ID_CHARS = 128;
/** Bounds on a key's metadata: labels, not a document store. */
const MAX_METADATA_ENTRIES = 50;
const MAX_METADATA_KEY_CHARS = 128;
const MAX_METADATA_VALUE_CHARS = 1024;
/** Names that are prototype machinery once the record is an object again (merged, spread, looked up). */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function validateMetadata(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const entries = typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as object) : undefined;
  if (
    !entries ||
    entries.length > MAX_METADATA_ENTRIES ||
    !entries.every(([k, x]) => !RESERVED_NAMES.has(k) && k.length <= MAX_METADATA_KEY_CHARS && typeof x === 'string' && x.length <= MAX_METADATA_VALUE_CHARS)
  )
    throw bad(
      `'metadata' must map at most ${MAX_METADATA_ENTRIES} names (up to ${MAX_METADATA_KEY_CHARS} characters, not __proto__, constructor or prototype) to strings of up to ${MAX_METADATA_VALUE_CHARS} characters.`,
      'metadata',
    );
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A guard policy name; the gateway checks it names a configured policy when the key is used (a key outlives config changes). */
function validateGuard(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(v))
    throw bad("'guard' must be the name of a guard policy in the gateway's config (letters, digits, _ . -; at most 64).", 'guard');
  return v;
}

function validateLogging(v: unknown): LoggingPolicy | undefined {
  if (v === undefined || v === null) return undefined;
  if (!LOGGING.includes(v as LoggingPolicy)) throw bad(`'logging' must be one of ${LOGGING.join(', ')}.`, 'logging');
  return v as LoggingPolicy;
}

function validateName(v: unknown, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !v.trim() || v.length > 200) throw bad("'name' is required: a string of at most 200 characters.", 'name');
  return v.trim();
}

function validateTeam(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  // '#' separates the parts of the counter items' keys (`team#<name>`, `<key>#<shard>`): a team
  // named `x#1` would share an item with team x's shard 1.
  if (typeof v !== 'string' || !v.trim() || v.length > 200 || v.includes('#'))
    throw bad("'team' must be a string of at most 200 characters, without '#'.", 'team');
  return v.trim();
}

/** The fields of a new key record from an admin create body (also a VirtualKey's spec), validated. */
export function newKeyFields(b: Record<string, unknown>, t: number): Omit<KeyRecord, 'id' | 'createdAt' | 'hint'> {
  return {
    name: validateName(b.name, true)!,
    team: validateTeam(b.team),
    expiresAt: validateExpiry(b.expiresAt, t),
    models: validateModels(b.models),
    limits: validateLimits(b.limits),
    logging: validateLogging(b.logging) ?? 'metadata',
    metadata: validateMetadata(b.metadata),
    oidcClientId: validateOidcClientId(b.oidcClientId),
    trustUserHeader: validateTrustUserHeader(b.trustUserHeader),
    guard: validateGuard(b.guard),
  };
}

/** The fields a PATCH body changes: absent leaves a field as it is, null removes it. */
export const CHANGEABLE_KEY_FIELDS = ['name', 'team', 'models', 'limits', 'expiresAt', 'logging', 'metadata', 'oidcClientId', 'trustUserHeader', 'guard'];

/** The changes of an admin PATCH body (also a VirtualKey's update), validated; unknown fields are refused. */
export function keyChanges(b: Record<string, unknown>, t: number): Record<string, unknown> {
  for (const k of Object.keys(b))
    if (!CHANGEABLE_KEY_FIELDS.includes(k)) throw bad(`'${k}' cannot be changed (changeable: ${CHANGEABLE_KEY_FIELDS.join(', ')}).`, k);
  const changes: Record<string, unknown> = {};
  if ('name' in b) changes.name = validateName(b.name, true);
  if ('team' in b) changes.team = validateTeam(b.team) ?? null;
  if ('models' in b) changes.models = validateModels(b.models) ?? null;
  if ('limits' in b) changes.limits = validateLimits(b.limits) ?? null;
  if ('expiresAt' in b) changes.expiresAt = validateExpiry(b.expiresAt, t) ?? null;
  if ('logging' in b) changes.logging = validateLogging(b.logging) ?? 'metadata';
  if ('metadata' in b) changes.metadata = validateMetadata(b.metadata) ?? null;
  if ('oidcClientId' in b) changes.oidcClientId = validateOidcClientId(b.oidcClientId) ?? null;
  if ('trustUserHeader' in b) changes.trustUserHeader = validateTrustUserHeader(b.trustUserHeader) ?? null;
  if ('guard' in b) changes.guard = validateGuard(b.guard) ?? null;
  return changes;
}

/** Admin bodies are small JSON objects (a key's settings, a team's limits). */
const ADMIN_MAX_BODY_BYTES = 64 * 1024;

const json = (status: number, body: unknown) => jsonResponse(body, status);

/** A record as the admin API shows it: with how the key can be presented (its plaintext, a JWT, or both). */
export const presentKey = (record: KeyRecord) => ({ ...record, usableWith: keyUsableWith(record) });

const oidcClientTaken = (err: OidcClientTakenError) =>
  new GatewayError({
    status: 409,
    type: 'invalid_request_error',
    code: 'oidc_client_taken',
    param: 'oidcClientId',
    message: `The OIDC client '${err.clientId}' is already bound to ${err.ownerId}. Unbind it there first (PATCH "oidcClientId": null).`,
  });

/** The store's refusal of a second key for one OIDC client, as the admin API's 409. */
async function bindingConflicts<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw err instanceof OidcClientTakenError ? oidcClientTaken(err) : err;
  }
}

const notFoundKey = (id: string) => new GatewayError({ status: 404, type: 'not_found_error', code: 'key_not_found', message: `No key with id '${id}'.` });

/**
 * The admin app serves exactly the contract's ADMIN_ROUTES and CACHE_ADMIN_ROUTES (the construct
 * creates one API Gateway method for each): every listed route has an action and every action is listed, checked when the
 * app is made. Each resource path becomes a matcher; `{…}` is one path segment.
 */
function adminRouteMatchers<R extends { readonly methods: Readonly<Record<string, unknown>> }>(
  resources: Readonly<Record<string, R>>,
): { pattern: RegExp; resource: R }[] {
  const listed = new Set([...ADMIN_ROUTES, ...CACHE_ADMIN_ROUTES].map(([method, path]) => `${method} ${path}`));
  const served = new Set(Object.entries(resources).flatMap(([path, r]) => Object.keys(r.methods).map((method) => `${method} ${path}`)));
  const missing = [...listed].filter((r) => !served.has(r));
  const unlisted = [...served].filter((r) => !listed.has(r));
  if (missing.length || unlisted.length)
    throw new Error(`admin routes out of step with ADMIN_ROUTES: without an action ${JSON.stringify(missing)}, not listed ${JSON.stringify(unlisted)}`);
  return Object.entries(resources).map(([path, resource]) => ({
    pattern: new RegExp(`^/admin/${path.replace(/\{\w+\}/, '([^/]+)')}$`),
    resource,
  }));
}

export function createAdminApp(deps: AdminDeps): { fetch(req: Request): Promise<Response> } {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const iso = () => new Date(now()).toISOString();

  async function mustGet(id: string): Promise<KeyRecord> {
    const r = await deps.keyStore.get(id);
    if (!r) throw notFoundKey(id);
    return r;
  }

  async function create(req: Request): Promise<Response> {
    const b = await readJsonObject(req, ADMIN_MAX_BODY_BYTES);
    const t = now();
    const key = generateKey();
    const record: KeyRecord = { id: newKeyId(), createdAt: new Date(t).toISOString(), hint: keyHint(key), ...newKeyFields(b, t) };
    await bindingConflicts(deps.keyStore.create(record, hashKey(key)));
    return json(201, { ...presentKey(record), key });
  }

  async function patch(req: Request, id: string): Promise<Response> {
    let b = await readJsonObject(req, ADMIN_MAX_BODY_BYTES);
    if (isObject(b.limits)) b = { ...b, limits: mergeLimits({ ...(await mustGet(id)).limits }, b.limits) };
    const changes = { updatedAt: iso(), ...keyChanges(b, now()) };
    const updated = await bindingConflicts(deps.keyStore.update(id, changes as Partial<KeyRecord>));
    if (!updated) throw notFoundKey(id);
    deps.verifier?.invalidate(id);
    return json(200, presentKey(updated));
  }

  async function revoke(id: string): Promise<Response> {
    const existing = await mustGet(id);
    const updated = existing.revokedAt ? existing : await deps.keyStore.update(id, { revokedAt: iso(), updatedAt: iso() });
    if (!updated) throw notFoundKey(id);
    deps.verifier?.invalidate(id);
    return json(200, presentKey(updated));
  }

  async function rotate(req: Request, id: string): Promise<Response> {
    // The body is optional here: none (or a blank one) means no grace period.
    const text = req.headers.get('content-length') === '0' ? '' : await readBodyText(req, ADMIN_MAX_BODY_BYTES);
    const grace = (text.trim() ? parseJsonObject(text) : {}).gracePeriodSeconds ?? 0;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS)
      throw bad(`'gracePeriodSeconds' must be an integer between 0 and ${MAX_GRACE_SECONDS}.`, 'gracePeriodSeconds');
    const existing = await mustGet(id);
    if (existing.revokedAt)
      throw new GatewayError({
        status: 409,
        type: 'invalid_request_error',
        code: 'key_revoked',
        message: 'A revoked key cannot be rotated; create a new key.',
      });
    const key = generateKey();
    const validUntil = grace > 0 ? new Date(now() + grace * 1000).toISOString() : undefined;
    const updated = await deps.keyStore.rotate(id, hashKey(key), undefined, validUntil, keyHint(key));
    if (!updated) throw notFoundKey(id);
    deps.verifier?.invalidate(id);
    return json(200, { ...presentKey(updated), key, ...(validUntil ? { previousKeyValidUntil: validUntil } : {}) });
  }

  type Action = (req: Request, param: string) => Promise<Response>;
  /** One admin resource: its methods, whether this deployment offers it, and how its path parameter is read. */
  interface Resource {
    readonly methods: Readonly<Record<string, Action>>;
    /** False: the resource answers 404 (its part of the gateway is not configured). */
    readonly available?: () => boolean;
    /** Validates and decodes the path parameter (a 400 on a bad one), before the method is looked at. */
    readonly param?: (raw: string) => string;
  }

  /** `{ "key"?, "team"?, "model"? }`: every given field must match; an empty body purges every entry. */
  async function purgeFilter(req: Request): Promise<CachePurgeFilter> {
    const text = req.headers.get('content-length') === '0' ? '' : await readBodyText(req, ADMIN_MAX_BODY_BYTES);
    const body = text.trim() ? parseJsonObject(text) : {};
    const filter: { keyId?: string; team?: string; model?: string } = {};
    for (const [k, v] of Object.entries(body)) {
      if (k !== 'key' && k !== 'team' && k !== 'model') throw bad(`'${k}' is not a purge field (key, team, model).`, k);
      if (typeof v !== 'string' || !v) throw bad(`'${k}' must be a non-empty string.`, k);
      if (k === 'key') filter.keyId = v;
      else filter[k] = v;
    }
    return filter;
  }

  const decodeTeam = (raw: string) => {
    let team: string;
    try {
      team = decodeURIComponent(raw);
    } catch {
      throw bad('The team name in the path is not valid percent-encoding.', 'team');
    }
    if (validateTeam(team) !== team) throw bad('The team name must be 1 to 200 characters without surrounding spaces.', 'team');
    return team;
  };

  /** Key ids are `key_` and a few dozen characters; a longer one would exceed the store's key size. */
  const keyId = (raw: string) => {
    if (raw.length > MAX_KEY_ID_CHARS) throw bad(`A key id is at most ${MAX_KEY_ID_CHARS} characters.`, 'id');
    return raw;
  };

  /** The admin API's resources, by their path under /admin in the contract's ADMIN_ROUTES. */
  const resources: Readonly<Record<string, Resource>> = {
    keys: {
      methods: {
        POST: (req) => create(req),
        GET: async () => json(200, { object: 'list', data: (await deps.keyStore.list()).map(presentKey) }),
      },
    },
    'keys/{id}': { param: keyId, methods: { GET: async (_req, id) => json(200, presentKey(await mustGet(id))), PATCH: (req, id) => patch(req, id) } },
    'keys/{id}/revoke': { param: keyId, methods: { POST: (_req, id) => revoke(id) } },
    'keys/{id}/rotate': { param: keyId, methods: { POST: (req, id) => rotate(req, id) } },
    'keys/{id}/usage': {
      param: keyId,
      methods: {
        GET: async (_req, id) => {
          const record = await mustGet(id);
          const usage = deps.usage ? await deps.usage.usage(record) : {};
          return json(200, { id, limits: record.limits ?? {}, usage });
        },
      },
    },
    'teams/{team}': {
      available: () => deps.teams !== undefined,
      param: decodeTeam,
      methods: {
        GET: async (_req, team) => {
          const record = await deps.teams!.getTeam(team);
          if (!record) throw new GatewayError({ status: 404, type: 'not_found_error', code: 'team_not_found', message: `Team '${team}' has no limits set.` });
          return json(200, record);
        },
        PUT: async (req, team) => {
          const b = await readJsonObject(req, ADMIN_MAX_BODY_BYTES);
          for (const k of Object.keys(b)) if (k !== 'limits') throw bad(`'${k}' is not a team field (only 'limits').`, k);
          return json(200, await deps.teams!.putTeam(team, validateTeamLimits(b.limits)));
        },
      },
    },
    usage: {
      available: () => deps.usageApi !== undefined,
      methods: { GET: async (req) => json(200, await deps.usageApi!.forAdmin(new URL(req.url, 'http://gateway').searchParams)) },
    },
    'cache/purge': {
      available: () => deps.cache !== undefined,
      methods: { POST: async (req) => json(200, { purged: await deps.cache!.purge(await purgeFilter(req)) }) },
    },
    'ui-links': {
      available: () => deps.uiSessions !== undefined,
      methods: {
        POST: async (req) => {
          const text = req.headers.get('content-length') === '0' ? '' : await readBodyText(req, ADMIN_MAX_BODY_BYTES);
          const body = text.trim() ? parseJsonObject(text) : {};
          for (const k of Object.keys(body)) if (k !== 'ttlSeconds') throw bad(`'${k}' is not a ui-link field (only 'ttlSeconds').`, k);
          return json(201, await deps.uiSessions!.mint(body.ttlSeconds));
        },
      },
    },
  };
  const matchers = adminRouteMatchers(resources);

  async function route(req: Request): Promise<Response> {
    const path = pathOf(req.url).replace(/\/+$/, '');
    for (const { pattern, resource } of matchers) {
      const m = pattern.exec(path);
      if (!m) continue;
      if (resource.available && !resource.available()) throw errors.notFound(req.method, path);
      const param = m[1] === undefined ? '' : resource.param ? resource.param(m[1]) : m[1];
      const action = resource.methods[req.method];
      if (!action) throw errors.methodNotAllowed(req.method, path);
      return action(req, param);
    }
    throw errors.notFound(req.method, path);
  }

  return {
    async fetch(req: Request): Promise<Response> {
      // Like every API answer, each admin answer names its request, so an operator's report can be traced.
      const requestId = newRequestId();
      let res: Response;
      try {
        if (!deps.authorize(req)) {
          throw new GatewayError({
            status: 401,
            type: 'authentication_error',
            code: 'invalid_admin_credential',
            message: 'Missing or wrong admin credential.',
          });
        }
        res = await route(req);
      } catch (err) {
        if (!(err instanceof GatewayError)) logger.error('admin request failed', { error: err instanceof Error ? err.stack : String(err), requestId });
        return renderError(toGatewayError(err), 'openai', { 'x-request-id': requestId });
      }
      res.headers.set('x-request-id', requestId);
      return res;
    },
  };
}
