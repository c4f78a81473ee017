/**
 * The deployable app: `npx cdk deploy` puts a complete gateway into your account.
 *
 * The routing config is read from `gateway.aws.json` when it exists (same schema as the local
 * `gateway.config.json`; provider keys as `{ "secret": "<name>" }`), else the default below: the
 * mock provider (works with no credentials) and OpenAI/Anthropic whose keys you put into the
 * created Secrets Manager secrets after the first deploy. Synth is offline: no AWS lookups.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Tags } from 'aws-cdk-lib';
import type { GatewayConfig } from '../lambda/contract';
import { AiGateway } from '../lib';

const DEFAULT_CONFIG: GatewayConfig = {
  providers: {
    mock: { type: 'mock' },
    openai: { type: 'openai', apiKey: { secret: 'ai-gateway/openai' } },
    anthropic: { type: 'anthropic', apiKey: { secret: 'ai-gateway/anthropic' } },
  },
  models: {
    'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
    'gpt-4o': {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
    },
    'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
    'claude-sonnet-4-5': {
      targets: [
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        { provider: 'openai', model: 'gpt-4o' },
      ],
    },
  },
};

function loadConfig(): GatewayConfig {
  const file = process.env.GATEWAY_AWS_CONFIG ?? join(process.cwd(), 'gateway.aws.json');
  if (!existsSync(file)) return DEFAULT_CONFIG;
  // AiGateway validates the config and names every bad field.
  return JSON.parse(readFileSync(file, 'utf8')) as GatewayConfig;
}

const app = new App();
const stack = new Stack(app, app.node.tryGetContext('stackName') ?? 'AiGateway', {
  description: 'AI gateway (cdk-ai-gateway): OpenAI/Anthropic-compatible streaming proxy with virtual keys, limits and audit logs',
  // Environment-agnostic unless the CLI's profile tells us: synth needs no credentials.
  env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
});
Tags.of(stack).add('app', 'ai-gateway');
new AiGateway(stack, 'Gateway', { config: loadConfig() });
