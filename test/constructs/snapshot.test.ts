/**
 * One snapshot of the default AiGateway stack. Asset hashes change whenever the runtime bundle
 * does, so the serializer masks them: the snapshot only moves when the infrastructure does.
 */
import { gatewayStack } from './fixtures';

const ASSET_HASH = /[0-9a-f]{64}/g;

expect.addSnapshotSerializer({
  test: (value) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value: string) => JSON.stringify(value.replace(ASSET_HASH, '[ASSET_HASH]')),
});

test('default AiGateway stack', () => {
  const template = gatewayStack().template().toJSON();
  expect(JSON.stringify(template)).not.toMatch(/\/tmp\/|cdk-ai-gateway-assets/);
  expect(template).toMatchSnapshot();
});
