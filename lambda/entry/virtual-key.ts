/**
 * VirtualKey custom resource entry: CloudFormation sends Create/Update/Delete for each VirtualKey
 * construct; this issues, updates or revokes the key in the gateway's keys table and writes the
 * key into the construct's secret, then reports to CloudFormation's ResponseURL. Logs carry key
 * ids and reasons only, never a key.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ENV_LOG_LEVEL } from '../contract/env';
import { consoleLogger } from '../adapters/console-logger';
import { secretsManagerKeySecret } from '../adapters/secrets-manager-key-secret';
import { createVirtualKeyResourceHandler, runCustomResource } from '../adapters/virtual-key-resource';
import { DynamoKeyStore } from '../stores/dynamo-key-store';
import { createDynamoClient } from '../stores/dynamo-client';

const logger = consoleLogger(process.env[ENV_LOG_LEVEL] ?? 'info');
let resource: ReturnType<typeof createVirtualKeyResourceHandler> | undefined;

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  resource ??= (() => {
    const dynamo = createDynamoClient();
    return createVirtualKeyResourceHandler({ keyStore: (table) => new DynamoKeyStore(dynamo, table), secret: secretsManagerKeySecret(), logger });
  })();
  logger.info('virtual key resource event', { requestType: event.RequestType, resource: event.LogicalResourceId });
  await runCustomResource(event, resource, fetch, logger);
}
