/** A small client for the admin HTTP API, used by the CLI (local gateway by default). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface AdminClientOptions {
  readonly url: string;
  readonly token?: string;
  /** Signs requests for a deployed (IAM-authorized) admin API instead of sending a token. */
  readonly sign?: (req: { method: string; url: string; headers: Record<string, string>; body?: string }) => Promise<Record<string, string>>;
}

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function resolveAdminToken(env: Record<string, string | undefined>): string | undefined {
  if (env.GATEWAY_ADMIN_TOKEN) return env.GATEWAY_ADMIN_TOKEN;
  const file = join(resolve(env.GATEWAY_DATA_DIR ?? '.gateway'), 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export class AdminClient {
  constructor(private readonly options: AdminClientOptions) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const url = this.options.url.replace(/\/+$/, '') + path;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.sign) headers = await this.options.sign({ method, url, headers, body: payload });
    else if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: payload });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new AdminApiError(
        0,
        `cannot reach the gateway at ${this.options.url} (${cause?.code ?? cause?.message ?? String(err)}). Is it running? Start it with 'npm start'.`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: { message: text } };
    }
    if (!res.ok) throw new AdminApiError(res.status, (parsed as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status}`);
    return parsed as T;
  }
}
