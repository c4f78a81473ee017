/**
 * Every public grant* method returns the iam.Grant it made (aws-cdk-lib's shape): one Grant
 * combining the statements on every resource the method touches, the KMS key's included, so a
 * caller can `applyBefore(...)` or inspect exactly what was granted.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { GatewayConfig } from '../../lambda/core/config';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AiGateway, KeyStore, ProviderSecrets } from '../../lib';
import { CONFIG, ENV } from './fixtures';

const CACHED: GatewayConfig = { ...CONFIG, cache: { mode: 'exact' } };

function setup() {
  const stack = new Stack(new App(), 'Grants', { env: ENV });
  const tableKey = new kms.Key(stack, 'TableKey');
  const gateway = new AiGateway(stack, 'Gateway', { config: CACHED, keyStore: { encryptionKey: tableKey }, cache: { encryptionKey: tableKey } });
  const role = new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() });
  /** What a grant put on the role: resolved actions and resources of each principal statement. */
  const made = (grant: iam.Grant) => {
    expect(grant.success).toBe(true);
    expect(grant.resourceStatements).toEqual([]);
    return grant.principalStatements.map((s) => stack.resolve(s.toStatementJson()) as { Action: string | string[]; Resource: unknown });
  };
  const refs = (statements: { Resource: unknown }[]) => JSON.stringify(statements.map((s) => s.Resource));
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  return { stack, gateway, role, tableKey, made, refs, id };
}

test('KeyStore.grantProxy and grantAdmin combine the three tables and their customer-managed key', () => {
  const { gateway, role, tableKey, made, refs, id } = setup();
  for (const grant of [gateway.keyStore.grantProxy(role), gateway.keyStore.grantAdmin(role)]) {
    const resources = refs(made(grant));
    for (const table of [gateway.keyStore.keysTable, gateway.keyStore.countersTable, gateway.keyStore.usageTable]) expect(resources).toContain(id(table));
    expect(resources).toContain(id(tableKey));
  }
  expect(refs(made(gateway.keyStore.grantKeyIssuer(role)))).toContain(id(tableKey));
});

test("KeyStore over imported tables grants each table's own customer-managed key", () => {
  const stack = new Stack(new App(), 'ImportedKeys', { env: ENV });
  const keysKey = kms.Key.fromKeyArn(stack, 'KeysKey', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-1111-1111-111111111111');
  const store = new KeyStore(stack, 'Store', {
    existingKeysTable: dynamodb.Table.fromTableAttributes(stack, 'Keys', { tableName: 'team-keys', encryptionKey: keysKey }),
    existingCountersTable: dynamodb.Table.fromTableName(stack, 'Counters', 'team-counters'),
    existingUsageTable: dynamodb.Table.fromTableName(stack, 'Usage', 'team-usage'),
  });
  const role = new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() });
  for (const grant of [store.grantProxy(role), store.grantAdmin(role), store.grantKeyIssuer(role)]) {
    const statements = grant.principalStatements.map((st) => stack.resolve(st.toStatementJson()) as { Action: string | string[]; Resource: unknown });
    const kmsStatements = statements.filter((st) => ([] as string[]).concat(st.Action).some((a) => a.startsWith('kms:')));
    expect(kmsStatements.map((st) => st.Resource)).toEqual([keysKey.keyArn]);
  }
});

test('RequestLog grants reach the stream, the bucket prefixes, Athena and Glue, and include the bucket key', () => {
  const { gateway, role, made, refs, id } = setup();
  const key = gateway.requestLog.encryptionKey!;
  const write = made(gateway.requestLog.grantWrite(role));
  expect(refs(write)).toContain(id(gateway.requestLog.deliveryStream));
  expect(refs(write)).toContain('/bodies/*');
  expect(refs(write)).toContain(id(key));
  const blobs = made(gateway.requestLog.grantCacheBlobs(role));
  expect(refs(blobs)).toContain('/cache/*');
  expect(refs(blobs)).toContain(id(key));
  // A purge only deletes objects: no key use.
  expect(refs(made(gateway.requestLog.grantCacheBlobs(role, true)))).not.toContain(id(key));
  const query = made(gateway.grantQueryLogs(role));
  const actions = query.flatMap((s) => s.Action);
  expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'glue:GetTable', 's3:GetObject', 's3:PutObject', 'kms:Decrypt']));
});

test('ResponseCacheStore grants include the table key; ProviderSecrets.grantRead covers every secret', () => {
  const { gateway, role, tableKey, made, refs, id } = setup();
  for (const grant of [gateway.cache!.grantProxy(role), gateway.cache!.grantPurge(role)]) {
    expect(refs(made(grant))).toContain(id(gateway.cache!.table));
    expect(refs(made(grant))).toContain(id(tableKey));
  }
  const secrets = refs(made(gateway.secrets.grantRead(role)));
  expect(gateway.secrets.secrets.size).toBe(2);
  expect(secrets).toContain(id(gateway.secrets.secrets.get('ai-gateway/openai')!));
  expect(secrets).toContain('prod/anthropic-AbC123');
});

test('ProviderSecrets.grantRead with no secret in the config grants nothing and says so', () => {
  const stack = new Stack(new App(), 'NoSecrets', { env: ENV });
  const secrets = new ProviderSecrets(stack, 'Secrets', { config: { providers: { mock: { type: 'mock' } }, models: {} } });
  const grant = secrets.grantRead(new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() }));
  expect(grant.success).toBe(false);
  expect(grant.principalStatements).toEqual([]);
});
