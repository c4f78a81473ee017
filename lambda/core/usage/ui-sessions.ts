/**
 * Short-lived admin sessions for the usage page on AWS, where the admin API is IAM-authorized and
 * a browser holds no AWS credentials: an operator with IAM credentials asks the admin API for a
 * link (`ai-gateway ui-link`, `POST /admin/ui-links`); the link carries a random token in its
 * fragment (never sent to servers or logged); the gateway stores only the token's hash with an
 * expiry, and accepts the token on `GET /v1/usage` as an admin credential until then.
 */
import { randomBytes } from 'node:crypto';
import { errors } from '../errors';
import { hashKey } from '../keys';

export const UI_SESSION_PREFIX = 'gwui_';
export const DEFAULT_UI_SESSION_SECONDS = 900;
export const MAX_UI_SESSION_SECONDS = 12 * 3600;

/** Where session hashes live (the keys table): put at mint, get at each use. */
export interface UiSessionStore {
  put(tokenHash: string, expiresAt: string): Promise<void>;
  /** The session's expiry, or undefined for an unknown token. */
  get(tokenHash: string): Promise<string | undefined>;
}

export interface MintedUiSession {
  readonly token: string;
  readonly expiresAt: string;
  /** Path of the page with the session in its fragment; prefix the gateway's base URL. */
  readonly path: string;
}

export function createUiSessions(store: UiSessionStore, now: () => number) {
  return {
    async mint(ttlSeconds: unknown = DEFAULT_UI_SESSION_SECONDS): Promise<MintedUiSession> {
      if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_UI_SESSION_SECONDS)
        throw errors.badRequest(`'ttlSeconds' must be a whole number from 60 to ${MAX_UI_SESSION_SECONDS}.`, 'ttlSeconds');
      const token = UI_SESSION_PREFIX + randomBytes(32).toString('base64url');
      const expiresAt = new Date(now() + ttlSeconds * 1000).toISOString();
      await store.put(hashKey(token), expiresAt);
      return { token, expiresAt, path: `/ui#admin=${token}` };
    },

    /** Whether the request presents a live session (a bearer token with the session prefix). */
    async isSession(req: Request): Promise<boolean> {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get('authorization') ?? '');
      if (!m?.[1].startsWith(UI_SESSION_PREFIX) || m[1].length > 200) return false;
      const expiresAt = await store.get(hashKey(m[1]));
      return expiresAt !== undefined && Date.parse(expiresAt) > now();
    },
  };
}

export type UiSessions = ReturnType<typeof createUiSessions>;
