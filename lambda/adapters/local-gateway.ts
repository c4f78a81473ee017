/**
 * The local gateway (ARCHITECTURE §7): the same core on Node's http server, with dynalite as an
 * embedded DynamoDB-compatible store persisted under the data dir, and JSONL logs beside it.
 */
import { bedrockGuardrails, usesBedrockGuardrails } from './bedrock-guardrails';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { type GatewayConfig, defaultConfig, validateConfig } from '../core/config';
import { type Gateway, type GatewayDeps, type GatewayOptions, createGateway } from '../core/app';
import { builtinProviders } from '../providers/registry';
import { bearerTokenAuthorizer, createAdminApp } from '../core/admin';
import type { LogSink } from '../core/log-record';
import type { Limiter, Logger } from '../core/ports';
import { createDynamoClient } from '../stores/dynamo-client';
import { DynamoKeyStore } from '../stores/dynamo-key-store';
import { ensureTables } from '../stores/ensure-tables';
import { createDynamoLimiter } from '../stores/dynamo-limiter';
import { DynamoResponseStore } from '../stores/dynamo-response-store';
import type { UsageReader } from '../core/admin';
import type { TeamLimitsStore } from '../core/limits/teams';
import { EnvSecretSource } from './env-secrets';
import { FileLogSink } from './file-log-sink';
import { parseJsonc } from './jsonc';
import { exposureWarning, warnMissingCredentials } from './startup-checks';
import { withAccessLog } from './access-log-sink';
import { type NodeServerTimeouts, createNodeServer } from './node-server';
import { pathOf } from '../core/url-path';
import { createKeepAliveFetch } from './keep-alive-fetch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LeaseOptions } from '../core/limits/leases';
import { DynamoUsageRollups } from '../stores/dynamo-usage-rollups';
import { RollupLogSink } from '../core/usage/rollup-sink';
import { createUsageApi } from '../core/usage/usage-api';
import { silentLogger } from '../core/ports';
import { defaultUiDir, fileUiAssets } from './file-ui-assets';
import { createUiSessions } from '../core/usage/ui-sessions';
import { DynamoUiSessionStore } from '../stores/dynamo-ui-sessions';
import { CacheConfigs } from '../core/cache/route-config';
import { DynamoCacheStore } from '../stores/dynamo-cache-store';
import { FileCacheBlobStore } from './file-cache-blobs';
import { LocalVectorIndex } from './local-vector-index';

export interface LocalGatewayOptions {
  /** @default 8787; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default '.gateway' */
  readonly dataDir?: string;
  /** In-memory store instead of files under dataDir (tests). @default false */
  readonly inMemory?: boolean;
  /** Admin bearer token; generated (and saved to <dataDir>/admin-token) when absent. */
  readonly adminToken?: string;
  readonly config?: GatewayConfig;
  readonly env?: Record<string, string | undefined>;
  /** Override any core dependency or the stage and endpoint lists (tests inject fetch, clocks, sinks, stages). */
  readonly overrides?: Partial<GatewayDeps & GatewayOptions>;
  /**
   * Build a limiter from the store client. @default - the DynamoDB limiter on the counters table
   * (it also serves the admin usage and team routes)
   */
  readonly limiter?: (client: DynamoDBClient, countersTable: string) => Limiter;
  /** Leased capacity of the default limiter (`{ horizonMs: 0 }`: exact per-request reservations). @default - leases on */
  readonly leases?: LeaseOptions;
  readonly logger?: Logger;
  /** How long a client may take to send its headers and its body (slow clients). @default - 20 s for headers, 60 s for the body */
  readonly clientTimeouts?: NodeServerTimeouts;
  /** Where the usage page's built files are. @default - `ui/` beside the CLI bundle, else the checkout's dist/ui */
  readonly uiDir?: string;
}

export interface LocalGateway {
  readonly url: string;
  readonly port: number;
  readonly adminToken: string;
  readonly dataDir: string;
  readonly gateway: Gateway;
  readonly dynamo: DynamoDBClient;
  readonly tables: { keys: string; counters: string; usage: string; cache?: string };
  readonly limiter: Limiter;
  close(): Promise<void>;
}

/** Load config from GATEWAY_CONFIG, else ./gateway.config.json, else the default (mock + env-keyed providers). */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): { config: GatewayConfig; source: string } {
  const path = env.GATEWAY_CONFIG ? resolve(cwd, env.GATEWAY_CONFIG) : join(cwd, 'gateway.config.json');
  if (!existsSync(path)) {
    if (env.GATEWAY_CONFIG) throw new Error(`GATEWAY_CONFIG points at ${path}, which does not exist`);
    return {
      config: defaultConfig(env),
      source: 'built-in default (mock provider' + (env.OPENAI_API_KEY ? ', openai' : '') + (env.ANTHROPIC_API_KEY ? ', anthropic' : '') + ')',
    };
  }
  let parsed: unknown;
  try {
    parsed = parseJsonc(readFileSync(path, 'utf8')); // comments allowed: it is a file people edit
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return { config: validateConfig(parsed), source: path };
}

/**
 * The embedded store's server, run on a worker thread. It is the gateway's alone: it listens on a
 * loopback port (dynalite speaks HTTP), but answers only requests signed with a random access key
 * id this process made (in memory, never written), so another local process or a web page in the
 * developer's browser cannot read or mint keys; it sends no CORS headers and refuses preflights.
 * Serving a DynamoDB request (parsing,
 * validation, LevelDB, checksums) is CPU, and on the gateway's own thread every key-cache refresh
 * or limiter write stalled the requests in flight behind it; on its own thread it only costs the
 * gateway the SDK call, as a real DynamoDB would. Plain CommonJS: it is evaluated, not bundled.
 */
const STORE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.module);
const server = dynalite({ ...(workerData.path ? { path: workerData.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const serve = server.listeners('request')[0];
server.removeAllListeners('request');
const credential = 'Credential=' + workerData.secret + '/';
server.on('request', (req, res) => {
  if (req.method !== 'POST' || !String(req.headers.authorization || '').includes(credential)) {
    req.resume();
    res.writeHead(403, { 'content-type': 'application/x-amz-json-1.0', connection: 'close' });
    res.end('{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"This store serves only the gateway that started it."}');
    return;
  }
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => (/^access-control-/i.test(name) ? res : setHeader(name, value));
  serve(req, res);
});
server.listen(0, '127.0.0.1', (err) => parentPort.postMessage(err ? { error: String(err && err.stack || err) } : { port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'close') server.close(() => parentPort.postMessage({ closed: true }));
});
`;

interface StoreMessage {
  readonly port?: number;
  readonly error?: string;
  readonly closed?: boolean;
}

async function startDynalite(dbPath: string | undefined, logger?: Logger): Promise<{ endpoint: string; secret: string; close(): Promise<void> }> {
  const secret = randomBytes(24).toString('hex');
  const worker = new Worker(STORE_WORKER, { eval: true, workerData: { module: require.resolve('dynalite'), path: dbPath, secret } });
  let onError!: (err: Error) => void;
  let onExit!: (code: number) => void;
  let onMessage!: (m: StoreMessage) => void;
  const port = await new Promise<number>((res, rej) => {
    onError = rej;
    onExit = (code) => rej(new Error(`the embedded store stopped while starting (exit code ${code})`));
    onMessage = (m) => (m.port ? res(m.port) : rej(new Error(`the embedded store did not start: ${m.error}`)));
    worker.on('error', onError).on('exit', onExit).on('message', onMessage);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // Only these: Worker's own listeners (which ref and start its message port) must stay.
  worker.off('error', onError).off('exit', onExit).off('message', onMessage);
  // After start-up a failure is logged; requests then get the store's errors (503 where it matters).
  worker.on('error', (err) => logger?.error('the embedded store failed', { error: String(err) }));
  // The HTTP server keeps the process alive; the store alone never should.
  worker.unref();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secret,
    close: async () => {
      // The store closes its database before the thread goes, so nothing written is lost.
      const closed = new Promise<void>((res) => {
        worker.on('message', (m: StoreMessage) => m.closed && res());
        worker.once('exit', () => res());
      });
      worker.ref(); // the process waits for the store to close its database
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}

function adminTokenFor(options: LocalGatewayOptions, dataDir: string, env: Record<string, string | undefined>): string {
  const given = options.adminToken ?? env.GATEWAY_ADMIN_TOKEN;
  if (given) return given;
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = 'gw-admin-' + randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One gateway per persisted data dir: a second one would fail deep inside the embedded store
 * ("Database is closed", an uncaught crash). A pid file says who holds the dir; a stale one (its
 * process is gone) is taken over. Returns the release function.
 */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'gateway.pid');
  const mine = String(process.pid);
  try {
    writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder))
      throw new Error(`another gateway (pid ${holder}) is using ${dataDir}; stop it, or give this one its own GATEWAY_DATA_DIR`);
    writeFileSync(file, mine, { mode: 0o600 });
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === mine) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
}

export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? env.GATEWAY_DATA_DIR ?? '.gateway');
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o700 });
  const config = options.config ?? loadConfig(env).config;
  const unlock = options.inMemory ? () => undefined : lockDataDir(dataDir);
  let db: Awaited<ReturnType<typeof startDynalite>>;
  try {
    db = await startDynalite(options.inMemory ? undefined : join(dataDir, 'db'), options.logger);
  } catch (err) {
    unlock();
    throw err;
  }
  const dynamo = createDynamoClient({ endpoint: db.endpoint, region: 'us-east-1', localSecret: db.secret });
  // The response cache's table, blobs and vector index exist only when the config turns a cache on.
  const caching = new CacheConfigs(config).anyOn;
  const tables = { keys: 'gateway-keys', counters: 'gateway-counters', usage: 'gateway-usage', ...(caching ? { cache: 'gateway-cache' } : {}) };
  await ensureTables(dynamo, tables);
  const vectors = caching ? new LocalVectorIndex(options.inMemory ? {} : { file: join(dataDir, 'cache', 'vectors.log') }) : undefined;
  const cache =
    caching && tables.cache
      ? {
          store: new DynamoCacheStore({ client: dynamo, tableName: tables.cache, blobs: new FileCacheBlobStore(join(dataDir, 'cache', 'blobs')) }),
          vectors,
        }
      : undefined;
  const keyStore = new DynamoKeyStore(dynamo, tables.keys);
  const rollups = new DynamoUsageRollups(dynamo, tables.usage);
  const fileSink: LogSink =
    options.overrides?.logSink ?? new FileLogSink(join(dataDir, 'logs'), (err) => options.logger?.error('log write failed', { error: String(err) }));
  const logSink: LogSink = new RollupLogSink(options.logger ? withAccessLog(fileSink, options.logger) : fileSink, rollups, options.logger ?? silentLogger);
  const adminToken = adminTokenFor(options, dataDir, env);
  const isAdmin = bearerTokenAuthorizer(adminToken);
  const uiSessions = createUiSessions(new DynamoUiSessionStore(dynamo, tables.keys), options.overrides?.now ?? Date.now);
  const limiter =
    options.limiter?.(dynamo, tables.counters) ??
    createDynamoLimiter({
      client: dynamo,
      tableName: tables.counters,
      now: options.overrides?.now,
      failMode: config.settings?.rateLimitFailMode,
      logger: options.logger,
      leases: options.leases,
    });
  const secrets = options.overrides?.secrets ?? new EnvSecretSource(env);
  if (options.logger) await warnMissingCredentials(config, secrets, options.logger);
  const upstreamClient = createKeepAliveFetch();
  const gateway = createGateway({
    config,
    providers: builtinProviders,
    keyStore,
    secrets,
    logger: options.logger,
    limiter,
    responseStore: new DynamoResponseStore(dynamo, tables.counters, options.overrides?.now),
    fetch: upstreamClient.fetch,
    usageRollups: rollups,
    isUsageAdmin: async (req) => isAdmin(req) || (await uiSessions.isSession(req)),
    uiAssets: fileUiAssets(options.uiDir ?? defaultUiDir()),
    cache,
    guardrails: usesBedrockGuardrails(config.guards) ? bedrockGuardrails() : undefined,
    ...options.overrides,
    logSink,
  });
  const admin = createAdminApp({
    keyStore,
    verifier: gateway.verifier,
    usage: 'usage' in limiter ? (limiter as Limiter & UsageReader) : undefined,
    teams: 'putTeam' in limiter ? (limiter as Limiter & TeamLimitsStore) : undefined,
    authorize: isAdmin,
    logger: options.logger,
    uiSessions,
    cache: gateway.cache,
    usageApi: createUsageApi({
      rollups,
      keyStore,
      verifier: gateway.verifier,
      limits: 'usage' in limiter ? (limiter as Limiter & UsageReader) : undefined,
      now: options.overrides?.now ?? Date.now,
    }),
  });
  const server: Server = createNodeServer(
    (req, client) => (pathOf(req.url).startsWith('/admin/') ? admin.fetch(req) : gateway.fetch(req, client)),
    (err) => options.logger?.error('request failed', { error: String(err) }),
    options.clientTimeouts,
  );
  // Streams can be long; Node's default request timeout (5 min) would cut them. The body has its
  // own deadline (createNodeServer's bodyTimeoutMs), and the headers Node's headersTimeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? env.HOST ?? '127.0.0.1';
  const port = options.port ?? Number(env.PORT ?? 8787);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, host, () => res());
    });
  } catch (err) {
    // Release the store too, or its open server would keep a failed start-up process alive.
    dynamo.destroy();
    await db.close();
    unlock();
    const reason =
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use (set PORT to another one, or 0 for any free port)' : (err as Error).message;
    throw new Error(`cannot listen on ${host}:${port}: ${reason}`);
  }
  const actualPort = (server.address() as AddressInfo).port;
  const exposed = exposureWarning(host, dataDir);
  if (exposed) options.logger?.warn(exposed);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    port: actualPort,
    adminToken,
    dataDir,
    gateway,
    dynamo,
    tables,
    limiter,
    async close() {
      await new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      });
      await gateway.flush();
      await limiter.shutdown?.();
      await logSink.close?.();
      vectors?.close();
      upstreamClient.close();
      dynamo.destroy();
      await db.close();
      unlock();
    },
  };
}
