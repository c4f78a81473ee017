/** `ai-gateway dev` / `npm start`: run the local gateway until SIGINT/SIGTERM. */
import { startLocalGateway, loadConfig } from '../../lambda/adapters/local-gateway';
import { consoleLogger } from '../../lambda/adapters/console-logger';

export async function runDevServer(): Promise<void> {
  const logger = consoleLogger(process.env.GATEWAY_LOG_LEVEL ?? 'info');
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.env);
  } catch (err) {
    console.error(`ai-gateway: ${(err as Error).message}`);
    process.exit(1);
  }
  // Signal handlers go in before anything is announced: a SIGTERM that arrives right after the
  // "listening" line (or during start-up) must shut down cleanly, not hit Node's default kill.
  let closing = false;
  const started = startLocalGateway({ config: loaded.config, logger });
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`\n${signal}: shutting down…`);
    try {
      await (await started).close();
      process.exit(0);
    } catch (err) {
      console.error(`ai-gateway: shutdown failed: ${(err as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  const gw = await started;
  const models = gw.gateway.catalog.names();
  const tokenHint = process.env.GATEWAY_ADMIN_TOKEN ? '$GATEWAY_ADMIN_TOKEN' : `$(cat ${gw.dataDir}/admin-token)`;
  // The CLI finds the gateway and its token by the same defaults; spell out whatever differs.
  const cliEnv = process.env.GATEWAY_DATA_DIR && !process.env.GATEWAY_ADMIN_TOKEN ? `GATEWAY_DATA_DIR=${process.env.GATEWAY_DATA_DIR} ` : '';
  const cliUrl = gw.url === 'http://127.0.0.1:8787' ? '' : ` --url ${gw.url}`;
  console.log(`
ai-gateway listening on ${gw.url}
  config:  ${loaded.source}
  models:  ${models.join(', ')}  (or provider/model)
  data:    ${gw.dataDir}  (store: dynalite, logs: ${gw.dataDir}/logs)
  admin token: ${process.env.GATEWAY_ADMIN_TOKEN ? 'from GATEWAY_ADMIN_TOKEN' : `${gw.adminToken}  (saved in ${gw.dataDir}/admin-token)`}

Create a key:
  ${cliEnv}npx ai-gateway keys create --name my-app${cliUrl}
  # or: curl -s -X POST ${gw.url}/admin/keys -H "authorization: Bearer ${tokenHint}" -d '{"name":"my-app"}'
Call it:
  curl ${gw.url}/v1/chat/completions -H "authorization: Bearer sk-gw-..." \\
    -H 'content-type: application/json' -d '{"model":"${models[0] ?? 'mock-model'}","messages":[{"role":"user","content":"hi"}]}'
`);
}
