/**
 * The VirtualKey construct's CloudFormation custom resource (ARCHITECTURE §15): issues a virtual
 * key at deploy time, keeps its plaintext only in the key's Secrets Manager secret, updates the
 * record when the construct's props change, and revokes it when the resource is deleted.
 *
 * Idempotent under CloudFormation's retries (a re-sent Create, an Update or Delete that already
 * ran): the secret is written before the record exists, and a Create first looks for a live key
 * in its secret, so a repeated or interrupted Create adopts what an earlier attempt made instead
 * of issuing a second key; Update and Delete set fields to values and are safe to repeat. The key
 * itself never appears in a log line, an error, or the response to CloudFormation (only its id).
 */
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { GatewayError } from '../core/errors';
import { keyChanges, newKeyFields } from '../core/admin';
import { KEY_PREFIX, type KeyRecord, type KeyStore, OidcClientTakenError, generateKey, hashKey, keyHint, newKeyId } from '../core/keys';
import { type Logger, silentLogger } from '../core/ports';

/** The resource's properties, as the construct sets them. */
export interface VirtualKeyResourceProperties {
  /** The gateway's keys table. */
  readonly KeysTable: string;
  /** The secret that receives the key. */
  readonly SecretArn: string;
  /**
   * The key's settings as one JSON string (CloudFormation turns numbers and booleans in
   * properties into strings; JSON keeps limits numeric): the admin API's create body.
   */
  readonly Spec: string;
}

/** The key's secret: read what it holds, put the new key. */
export interface KeySecret {
  get(secretArn: string): Promise<string | undefined>;
  put(secretArn: string, value: string): Promise<void>;
}

export interface VirtualKeyResourceDeps {
  readonly keyStore: (tableName: string) => KeyStore;
  readonly secret: KeySecret;
  readonly now?: () => number;
  readonly logger?: Logger;
}

export interface VirtualKeyResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly KeyId: string };
}

/** The fields the construct manages: each is set from the spec, or removed when the spec leaves it out. */
const MANAGED_FIELDS = ['name', 'team', 'models', 'limits', 'logging', 'oidcClientId', 'trustUserHeader'];

function parseSpec(props: VirtualKeyResourceProperties): Record<string, unknown> {
  const spec = JSON.parse(props.Spec) as unknown;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error('Spec must be a JSON object');
  return spec as Record<string, unknown>;
}

/** A validation or binding problem, worded for the stack's events (no key material can be in it). */
function describe(err: unknown): string {
  if (err instanceof GatewayError) return `${err.message}${err.param ? ` (${err.param})` : ''}`;
  if (err instanceof OidcClientTakenError) return err.message;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export function createVirtualKeyResourceHandler(deps: VirtualKeyResourceDeps) {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;

  /** The live key an earlier attempt of this resource left in its secret, if any. */
  async function adoptable(store: KeyStore, secretArn: string): Promise<KeyRecord | undefined> {
    const held = await deps.secret.get(secretArn);
    if (!held?.startsWith(KEY_PREFIX)) return undefined;
    const found = await store.lookup(hashKey(held));
    return found && !found.record.revokedAt && !found.validUntil ? found.record : undefined;
  }

  async function create(props: VirtualKeyResourceProperties, tags: Record<string, string>): Promise<VirtualKeyResult> {
    const store = deps.keyStore(props.KeysTable);
    const spec = parseSpec(props);
    const t = now();
    const fields = newKeyFields({ ...spec, metadata: { ...tags, ...(spec.metadata as object) } }, t);
    const earlier = await adoptable(store, props.SecretArn);
    if (earlier) {
      await store.update(earlier.id, { ...managedChanges(spec, t), updatedAt: new Date(t).toISOString() });
      logger.info('virtual key adopted from an earlier attempt', { keyId: earlier.id });
      return { PhysicalResourceId: earlier.id, Data: { KeyId: earlier.id } };
    }
    const key = generateKey();
    const record: KeyRecord = { id: newKeyId(), createdAt: new Date(t).toISOString(), hint: keyHint(key), ...fields };
    // Secret first: a crash after it leaves a key no record knows (the next attempt replaces it),
    // never a live key whose plaintext exists nowhere.
    await deps.secret.put(props.SecretArn, key);
    await store.create(record, hashKey(key));
    logger.info('virtual key issued', { keyId: record.id });
    return { PhysicalResourceId: record.id, Data: { KeyId: record.id } };
  }

  function managedChanges(spec: Record<string, unknown>, t: number): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const f of MANAGED_FIELDS) body[f] = spec[f] ?? null;
    return keyChanges(body, t);
  }

  async function update(
    keyId: string,
    props: VirtualKeyResourceProperties,
    old: VirtualKeyResourceProperties,
    tags: Record<string, string>,
  ): Promise<VirtualKeyResult> {
    // Another table or secret is another key: issue it; CloudFormation then deletes (revokes) the old one.
    if (props.KeysTable !== old.KeysTable || props.SecretArn !== old.SecretArn) return create(props, tags);
    const t = now();
    const updated = await deps.keyStore(props.KeysTable).update(keyId, { ...managedChanges(parseSpec(props), t), updatedAt: new Date(t).toISOString() });
    if (!updated) throw new Error(`virtual key ${keyId} no longer exists in ${props.KeysTable}`);
    logger.info('virtual key updated', { keyId });
    return { PhysicalResourceId: keyId, Data: { KeyId: keyId } };
  }

  async function remove(keyId: string, props: VirtualKeyResourceProperties): Promise<VirtualKeyResult> {
    const store = deps.keyStore(props.KeysTable);
    const record = await store.get(keyId);
    // A Delete after a failed Create names no key; a repeated Delete finds it revoked already.
    if (record && !record.revokedAt) {
      const at = new Date(now()).toISOString();
      await store.update(keyId, { revokedAt: at, updatedAt: at, ...(record.oidcClientId ? { oidcClientId: undefined } : {}) });
      logger.info('virtual key revoked', { keyId });
    }
    return { PhysicalResourceId: keyId, Data: { KeyId: keyId } };
  }

  return {
    async handle(event: CloudFormationCustomResourceEvent): Promise<VirtualKeyResult> {
      const props = event.ResourceProperties as unknown as VirtualKeyResourceProperties;
      const tags = { createdBy: 'cloudformation', stack: event.StackId.split('/')[1] ?? event.StackId, resource: event.LogicalResourceId };
      if (event.RequestType === 'Create') return create(props, tags);
      if (event.RequestType === 'Update')
        return update(event.PhysicalResourceId, props, event.OldResourceProperties as unknown as VirtualKeyResourceProperties, tags);
      return remove(event.PhysicalResourceId, props);
    },
    describe,
  };
}

/**
 * The answer CloudFormation waits for, PUT to the pre-signed ResponseURL. A failure carries its
 * reason (validation problems are worded for the stack events) and never key material.
 */
export function customResourceResponse(
  event: CloudFormationCustomResourceEvent,
  outcome: { ok: true; result: VirtualKeyResult } | { ok: false; reason: string },
): CloudFormationCustomResourceResponse {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  const physical = 'PhysicalResourceId' in event ? event.PhysicalResourceId : `failed-${event.RequestId}`;
  if (outcome.ok) return { ...base, Status: 'SUCCESS', PhysicalResourceId: outcome.result.PhysicalResourceId, Data: outcome.result.Data };
  return { ...base, Status: 'FAILED', Reason: outcome.reason.slice(0, 1000), PhysicalResourceId: physical };
}

/** Run one event and report it to CloudFormation; resolves once the report was accepted. */
export async function runCustomResource(
  event: CloudFormationCustomResourceEvent,
  handler: ReturnType<typeof createVirtualKeyResourceHandler>,
  put: typeof fetch,
  logger: Logger = silentLogger,
): Promise<CloudFormationCustomResourceResponse> {
  let response: CloudFormationCustomResourceResponse;
  try {
    response = customResourceResponse(event, { ok: true, result: await handler.handle(event) });
  } catch (err) {
    const reason = handler.describe(err);
    logger.error('virtual key resource failed', { requestType: event.RequestType, resource: event.LogicalResourceId, reason });
    response = customResourceResponse(event, { ok: false, reason });
  }
  const body = JSON.stringify(response);
  const res = await put(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) }, body });
  if (!res.ok) throw new Error(`CloudFormation did not accept the response: ${res.status}`);
  return response;
}
