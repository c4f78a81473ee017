/** Shared fixtures for the construct tests: a realistic routing config and a stack around AiGateway. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { GatewayConfig } from '../../lambda/core/config';
import { AiGateway, type AiGatewayProps } from '../../lib';

export const ENV = { account: '123456789012', region: 'eu-west-1' };

export const CONFIG: GatewayConfig = {
  providers: {
    openai: { type: 'openai', apiKey: { secret: 'ai-gateway/openai' } },
    anthropic: { type: 'anthropic', apiKey: { secret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/anthropic-AbC123' } },
    bedrock: { type: 'bedrock', region: 'eu-west-1' },
    mock: { type: 'mock' },
  },
  models: {
    'gpt-4o': {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
    },
    claude: {
      strategy: 'loadbalance',
      targets: [
        { provider: 'bedrock', model: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0' },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
    },
    'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
  },
};

export function gatewayStack(
  props: Partial<AiGatewayProps> = {},
  id = 'GatewayStack',
): { app: App; stack: Stack; gateway: AiGateway; template: () => Template } {
  const app = new App();
  const stack = new Stack(app, id, { env: ENV });
  const gateway = new AiGateway(stack, 'Gateway', { config: CONFIG, ...props });
  let template: Template | undefined;
  return { app, stack, gateway, template: () => (template ??= Template.fromStack(stack)) };
}
