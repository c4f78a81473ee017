/**
 * The `ai-gateway` CLI:
 *   ai-gateway dev                      run the local gateway (what `npm start` runs)
 *   ai-gateway keys create --name N [--team T] [--models g1,g2] [--rpm N] [--tpm N]
 *                          [--tokens-per-day N] [--budget-usd N --budget-period day|month]
 *                          [--expires-at ISO] [--logging full|metadata|redacted] [--guard POLICY]
 *                          [--oidc-client-id ID] [--trust-user-header true|false] [--per-user-rpm N] …
 *   ai-gateway keys list | show ID | revoke ID | rotate ID [--grace-seconds N] | usage ID
 *   ai-gateway keys update ID [same options as create]
 *   ai-gateway cache purge [--key ID] [--team T] [--model M]
 * Options: --url (default $GATEWAY_URL or http://127.0.0.1:8787), --json for scripts.
 */
import { parseArgs } from 'node:util';
import { AdminApiError, AdminClient, resolveAdminToken } from './cli/admin-client';
import { awsSigner, regionFromApiUrl } from './cli/aws-sign';
import { printKey, printKeyList, printTeam, printUsage } from './cli/format';
import { printable, say, sayError, terminalJson } from './cli/terminal-safe';
import { version as VERSION } from '../package.json';

/** Per-command help: `ai-gateway help CMD` and `ai-gateway CMD --help` print the command's own. */
const COMMAND_HELP: Record<string, string> = {
  dev: `ai-gateway dev
  Run the gateway locally (what \`npm start\` runs): the same core as on AWS, an embedded
  DynamoDB-compatible store and JSONL request logs under the data dir.
Environment:
  PORT                  port to listen on (default 8787; 0 picks a free one)
  HOST                  address to listen on (default 127.0.0.1; anything else exposes the admin API)
  GATEWAY_CONFIG        config file (default ./gateway.config.json; JSON with comments; else mock + env keys)
  GATEWAY_DATA_DIR      store, logs and admin token (default .gateway)
  GATEWAY_ADMIN_TOKEN   admin token (default: generated, saved in <data dir>/admin-token)
  GATEWAY_LOG_LEVEL     debug | info | warn | error (default info; debug adds a line per request)
`,
  keys: `ai-gateway keys create --name NAME [--team T] [--models "gpt-4o,claude-*"] [--rpm N] [--tpm N]
                       [--tokens-per-day N] [--budget-usd N] [--budget-period day|month]
                       [--expires-at ISO] [--logging full|metadata|redacted] [--metadata k=v,...]
                       [--oidc-client-id ID|none]  (JWTs of this OIDC application act as the key)
                       [--trust-user-header true|false]  (x-gateway-user / body user names the end user)
                       [--per-user-rpm N] [--per-user-tpm N] [--per-user-tokens-per-day N]
                       [--per-user-budget-usd N] [--per-user-budget-period day|month]  (each end user)
                       [--guard POLICY]  (a prompt guard policy of the config, on top of the route's; "" on update removes it)
ai-gateway keys list
ai-gateway keys show ID
ai-gateway keys update ID [options of create]
ai-gateway keys revoke ID
ai-gateway keys rotate ID [--grace-seconds N]
ai-gateway keys usage ID
  Virtual keys: the sk-gw-… secret is printed once by create and rotate; only its hash is stored.
`,
  teams: `ai-gateway teams set TEAM [--rpm N] [--tpm N] [--tokens-per-day N] [--budget-usd N] [--budget-period day|month]
ai-gateway teams show TEAM
  Limits shared by every key of the team.
`,
  logs: `ai-gateway logs [--key ID|NAME] [--model GLOB] [--status 200|4xx|error,...] [--since 30m|6h|7d|ISO]
                [--limit N] [--follow] [--data-dir DIR]
  The local request log, newest last; --follow keeps printing new records.
`,
  usage: `ai-gateway usage [--key ID|NAME] [--since 7d] [--data-dir DIR]
  Spend and tokens per key per day, from the local request log.
`,
  cache: `ai-gateway cache purge [--key ID] [--team T] [--model M]
  Remove response cache entries made by that key / that team / for that model (every given filter
  must match; none: every entry).
`,
  'ui-link': `ai-gateway ui-link [--ttl-seconds N]
  A short-lived admin link to the usage page (default 900 s; with --aws against a deployed gateway).
`,
};

const COMMON_OPTIONS = `Options:
  --url URL      gateway base URL (default $GATEWAY_URL or http://127.0.0.1:8787)
  --token T      admin token (default $GATEWAY_ADMIN_TOKEN or <data dir>/admin-token)
  --json         print JSON (for scripts)
  --aws          sign admin calls with AWS SigV4 (deployed gateway: --url is the API stage URL,
                 credentials from the standard AWS chain); --region overrides the URL's region
  -h, --help     this help (ai-gateway help COMMAND, or COMMAND --help, for one command's)
  -v, --version  the installed version
`;

const USAGE = `Usage:
${Object.values(COMMAND_HELP)
  .map((h) =>
    h
      .split('\n')
      .filter((l) => l.startsWith('ai-gateway') || l.startsWith('      '))
      .map((l) => `  ${l}`)
      .join('\n'),
  )
  .join('\n')}
${COMMON_OPTIONS}`;

function commandHelp(cmd: string): string {
  return `Usage:\n${COMMAND_HELP[cmd]}${cmd === 'dev' ? '' : COMMON_OPTIONS}`;
}

const options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  name: { type: 'string' },
  team: { type: 'string' },
  models: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'tokens-per-day': { type: 'string' },
  'budget-usd': { type: 'string' },
  'budget-period': { type: 'string' },
  'expires-at': { type: 'string' },
  logging: { type: 'string' },
  guard: { type: 'string' },
  metadata: { type: 'string' },
  'grace-seconds': { type: 'string' },
  'oidc-client-id': { type: 'string' },
  'trust-user-header': { type: 'string' },
  'per-user-rpm': { type: 'string' },
  'per-user-tpm': { type: 'string' },
  'per-user-tokens-per-day': { type: 'string' },
  'per-user-budget-usd': { type: 'string' },
  'per-user-budget-period': { type: 'string' },
  'ttl-seconds': { type: 'string' },
  'data-dir': { type: 'string' },
  key: { type: 'string' },
  model: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean', short: 'f', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
  aws: { type: 'boolean', default: false },
  region: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number`);
  return n;
}

class UsageError extends Error {}

/** The admin client: bearer token locally, SigV4 (IAM) against a deployed gateway with --aws. */
function adminClient(v: Values, env: NodeJS.ProcessEnv): AdminClient {
  const url = v.url ?? env.GATEWAY_URL ?? 'http://127.0.0.1:8787';
  if (!v.aws) return new AdminClient({ url, token: v.token ?? resolveAdminToken(env) });
  const region = v.region ?? regionFromApiUrl(url) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('--aws needs a region: pass --region, or use the execute-api URL of the stage');
  return new AdminClient({ url, sign: awsSigner({ region }) });
}

/** Turn flags into the admin API's create/patch body; only flags given are included. */
export function keyBodyFromFlags(v: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (v.name !== undefined) body.name = v.name;
  if (v.team !== undefined) body.team = v.team;
  if (v.models !== undefined)
    body.models = v.models
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const limits: Record<string, unknown> = {};
  if (v.rpm !== undefined) limits.rpm = num(v.rpm, 'rpm');
  if (v.tpm !== undefined) limits.tpm = num(v.tpm, 'tpm');
  if (v['tokens-per-day'] !== undefined) limits.tokensPerDay = num(v['tokens-per-day'], 'tokens-per-day');
  if (v['budget-usd'] !== undefined) limits.budgetUsd = { amount: num(v['budget-usd'], 'budget-usd'), period: v['budget-period'] ?? 'month' };
  const perUser: Record<string, unknown> = {};
  if (v['per-user-rpm'] !== undefined) perUser.rpm = num(v['per-user-rpm'], 'per-user-rpm');
  if (v['per-user-tpm'] !== undefined) perUser.tpm = num(v['per-user-tpm'], 'per-user-tpm');
  if (v['per-user-tokens-per-day'] !== undefined) perUser.tokensPerDay = num(v['per-user-tokens-per-day'], 'per-user-tokens-per-day');
  if (v['per-user-budget-usd'] !== undefined)
    perUser.budgetUsd = { amount: num(v['per-user-budget-usd'], 'per-user-budget-usd'), period: v['per-user-budget-period'] ?? 'month' };
  if (Object.keys(perUser).length) limits.perUser = perUser;
  if (Object.keys(limits).length) body.limits = limits;
  // "none" unbinds (PATCH null); the API validates the id itself.
  if (v['oidc-client-id'] !== undefined) body.oidcClientId = v['oidc-client-id'] === 'none' ? null : v['oidc-client-id'];
  if (v['trust-user-header'] !== undefined) {
    if (v['trust-user-header'] !== 'true' && v['trust-user-header'] !== 'false') throw new UsageError('--trust-user-header must be true or false');
    body.trustUserHeader = v['trust-user-header'] === 'true';
  }
  if (v['expires-at'] !== undefined) body.expiresAt = v['expires-at'];
  if (v.logging !== undefined) body.logging = v.logging;
  if (v.guard !== undefined) body.guard = v.guard === '' ? null : v.guard;
  if (v.metadata !== undefined) body.metadata = Object.fromEntries(v.metadata.split(',').map((kv) => kv.split('=').map((s) => s.trim())));
  return body;
}

async function keysCommand(sub: string | undefined, id: string | undefined, v: Values): Promise<void> {
  const env = process.env;
  const client = adminClient(v, env);
  const out = (data: unknown, human: () => void) => (v.json ? console.log(terminalJson(data, 2)) : human());
  const needId = () => {
    if (!id) throw new UsageError(`keys ${sub} needs a key id`);
    return encodeURIComponent(id);
  };
  switch (sub) {
    case 'create': {
      if (!v.name) throw new UsageError('keys create needs --name');
      const created = await client.call('POST', '/admin/keys', keyBodyFromFlags(v));
      return out(created, () => printKey(created, true));
    }
    case 'list': {
      const list = await client.call<{ data: Record<string, unknown>[] }>('GET', '/admin/keys');
      return out(list.data, () => printKeyList(list.data));
    }
    case 'show': {
      const r = await client.call('GET', `/admin/keys/${needId()}`);
      return out(r, () => printKey(r, false));
    }
    case 'update': {
      const r = await client.call('PATCH', `/admin/keys/${needId()}`, keyBodyFromFlags(v));
      return out(r, () => printKey(r, false));
    }
    case 'revoke': {
      const r = await client.call('POST', `/admin/keys/${needId()}/revoke`);
      return out(r, () => say(`Revoked ${printable(r.id)} (${printable(r.name)}). It stops working within the key cache TTL (default 5 s).`));
    }
    case 'rotate': {
      const grace = num(v['grace-seconds'], 'grace-seconds');
      const r = await client.call('POST', `/admin/keys/${needId()}/rotate`, grace ? { gracePeriodSeconds: grace } : {});
      return out(r, () => printKey(r, true));
    }
    case 'usage': {
      const r = await client.call('GET', `/admin/keys/${needId()}/usage`);
      return out(r, () => printUsage(r));
    }
    default:
      throw new UsageError(`unknown keys command '${sub ?? ''}'`);
  }
}

async function logCli(cmd: 'logs' | 'usage', v: Values): Promise<void> {
  const { runLogCli, LogFilterError } = await import('./cli/logs');
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  try {
    await runLogCli(cmd, v, say, stop.signal);
  } catch (err) {
    throw err instanceof LogFilterError ? new UsageError(err.message) : err;
  }
}

/** `teams set|show TEAM`: a team's limits (set replaces them; no limit flags clears them). */
async function teamsCommand(sub: string | undefined, team: string | undefined, v: Values): Promise<void> {
  const env = process.env;
  const client = adminClient(v, env);
  if (!team) throw new UsageError(`teams ${sub ?? ''} needs a team name`);
  const path = `/admin/teams/${encodeURIComponent(team)}`;
  let r: Record<string, unknown>;
  if (sub === 'set') r = await client.call('PUT', path, { limits: keyBodyFromFlags(v).limits ?? {} });
  else if (sub === 'show') r = await client.call('GET', path);
  else throw new UsageError(`unknown teams command '${sub ?? ''}'`);
  if (v.json) console.log(terminalJson(r, 2));
  else printTeam(r);
}

/** `cache purge`: remove response cache entries matching every given filter (none: every entry). */
async function cacheCommand(sub: string | undefined, v: Values): Promise<void> {
  if (sub !== 'purge') throw new UsageError(`unknown cache command '${sub ?? ''}'`);
  const client = adminClient(v, process.env);
  const filter = { ...(v.key ? { key: v.key } : {}), ...(v.team ? { team: v.team } : {}), ...(v.model ? { model: v.model } : {}) };
  const r = await client.call<{ purged: number }>('POST', '/admin/cache/purge', filter);
  if (v.json) console.log(JSON.stringify(r, null, 2));
  else console.log(`Purged ${r.purged} cache ${r.purged === 1 ? 'entry' : 'entries'}.`);
}

/** `ui-link`: mint a usage-page admin session (IAM-signed with --aws) and print the page's link. */
async function uiLinkCommand(v: Values): Promise<void> {
  const client = adminClient(v, process.env);
  const ttl = num(v['ttl-seconds'], 'ttl-seconds');
  const r = await client.call<{ token: string; expiresAt: string; path: string }>('POST', '/admin/ui-links', ttl === undefined ? {} : { ttlSeconds: ttl });
  const link = `${(v.url ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '')}${r.path}`;
  if (v.json) console.log(terminalJson({ url: link, expiresAt: r.expiresAt }, 2));
  else say(`${link}\n\nOpen it in a browser: it shows every key and team until ${r.expiresAt}. Anyone with the link can, so share it with care.`);
}

async function dev(): Promise<void> {
  const { runDevServer } = await import('./cli/dev');
  await runDevServer();
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [cmd, sub, id] = parsed.positionals;
  if (parsed.values.version || cmd === 'version') {
    console.log(VERSION);
    return 0;
  }
  if (cmd === 'help' || parsed.values.help) {
    // `help keys`, `keys --help`: that command's help; otherwise (or for an unknown one) all of it.
    const topic = cmd === 'help' ? sub : cmd;
    console.log(topic && COMMAND_HELP[topic] ? commandHelp(topic) : USAGE);
    return topic && !COMMAND_HELP[topic] ? 2 : 0;
  }
  if (!cmd) {
    console.error(USAGE);
    return 2;
  }
  try {
    if (cmd === 'dev') await dev();
    else if (cmd === 'keys') await keysCommand(sub, id, parsed.values);
    else if (cmd === 'teams') await teamsCommand(sub, id, parsed.values);
    else if (cmd === 'ui-link') await uiLinkCommand(parsed.values);
    else if (cmd === 'cache') await cacheCommand(sub, parsed.values);
    else if (cmd === 'logs' || cmd === 'usage') await logCli(cmd, parsed.values);
    else throw new UsageError(`unknown command '${cmd}'`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof AdminApiError) {
      sayError(`error: ${err.message}${err.status === 401 ? ' (set GATEWAY_ADMIN_TOKEN or --token)' : ''}`);
      return 1;
    }
    sayError(`error: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== 0 || process.argv[2] !== 'dev') process.exitCode = code;
  });
}
