/** InvokeModel with a JSON body and a JSON answer (embeddings, Claude's native Messages body). */
import { type ProviderCall, UpstreamError } from '../types';
import { bedrockClient } from './client';
import { bedrockError } from './errors';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The InvokeModel / InvokeModelWithResponseStream input for a JSON body. */
export function invokeInput(call: ProviderCall, body: Record<string, unknown>) {
  return { modelId: call.model, contentType: 'application/json', accept: 'application/json', body: encoder.encode(JSON.stringify(body)) };
}

export async function invokeJson(call: ProviderCall, body: Record<string, unknown>): Promise<unknown> {
  const { client, sdk } = await bedrockClient(call.provider.config);
  const out = await client.send(new sdk.InvokeModelCommand(invokeInput(call, body)), { abortSignal: call.signal }).catch((err: unknown) => {
    throw bedrockError(err, call);
  });
  try {
    return JSON.parse(decoder.decode(out.body));
  } catch {
    throw new UpstreamError('malformed', `${call.provider.name} returned an InvokeModel body that is not JSON`, 502, 'malformed_response');
  }
}
