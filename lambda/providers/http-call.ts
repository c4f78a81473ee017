/** One upstream HTTP call, shared by every HTTP provider: POST JSON, no redirects, failures as UpstreamError. */
import { fetchFailure, upstreamHttpError } from './http-errors';
import { type ProviderCall, UpstreamError } from './types';

/** POST a JSON body to a config-derived URL. Non-2xx answers throw with the provider's message (scrubbed of the key by core/upstream-scrub.ts). */
export async function postUpstream(call: ProviderCall, url: string, headers: Record<string, string>, body: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await call.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(body),
      signal: call.signal,
      redirect: 'manual',
    });
  } catch (err) {
    throw fetchFailure(err, call.signal, call.provider.name);
  }
  if (res.status >= 300 && res.status < 400) {
    res.body?.cancel().catch(() => undefined);
    throw new UpstreamError('http', `${call.provider.name} answered with a redirect, which the gateway does not follow`, 502, 'redirect');
  }
  if (!res.ok) throw await upstreamHttpError(res, call.provider.name);
  return res;
}

/** The parsed JSON body of a successful answer; a cut or non-JSON body is an UpstreamError. */
export async function readUpstreamJson<T>(res: Response, call: ProviderCall): Promise<T> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw fetchFailure(err, call.signal, call.provider.name);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UpstreamError('malformed', `${call.provider.name} returned a body that is not valid JSON`, 502, 'malformed_response');
  }
}

/** The body of a stream answer, or a 'malformed' failure when there is none. */
export function streamBody(res: Response, call: ProviderCall): ReadableStream<Uint8Array> {
  if (!res.body) throw new UpstreamError('malformed', `${call.provider.name} returned an empty stream`, 502, 'malformed_response');
  return res.body;
}
