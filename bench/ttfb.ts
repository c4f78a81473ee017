/**
 * Time to first byte of a streamed chat completion, or of a streamed /v1/responses answer (its
 * first event, and its first output_text.delta). The bench upstream sends its first content
 * chunk at once and holds the rest back, so a proxy that buffers the stream cannot deliver its
 * first byte before the hold ends.
 */
import { request } from 'node:http';
import type { LoadTarget } from './load';
import { FIRST_STREAM_CONTENT } from './upstream';
import { median } from './stats';

export interface TtfbSample {
  /** ms from sending the request to the first body byte. */
  readonly ttfbMs: number;
  /** ms from sending the request to the end of the stream. */
  readonly totalMs: number;
  /** ms from sending the request to the arrival of the first content chunk's text. */
  readonly firstContentMs: number;
}

/** Which API a stream is asked from: chat completions, or the Responses API. */
export type StreamApi = 'chat' | 'responses';

function streamRequest(target: LoadTarget, api: StreamApi): { path: string; body: string } {
  const chat = JSON.parse(target.body) as { model: string; messages: Array<{ content: string }> };
  if (api === 'chat') return { path: '/v1/chat/completions', body: JSON.stringify({ ...chat, stream: true }) };
  return { path: '/v1/responses', body: JSON.stringify({ model: chat.model, input: chat.messages.at(-1)?.content ?? 'hi', stream: true }) };
}

export function measureTtfb(target: LoadTarget, api: StreamApi = 'chat'): Promise<TtfbSample> {
  const { path, body } = streamRequest(target, api);
  const url = new URL(target.url + path);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - started) / 1e6;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...target.headers, 'content-length': Buffer.byteLength(body) },
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`${target.name}: streaming request answered ${res.statusCode}`));
          return;
        }
        let ttfbMs: number | undefined;
        let firstContentMs: number | undefined;
        let seen = '';
        res.on('data', (d: Buffer) => {
          ttfbMs ??= since();
          if (firstContentMs === undefined) {
            seen += d.toString();
            if (seen.includes(FIRST_STREAM_CONTENT)) firstContentMs = since();
          }
        });
        res.on('end', () => resolve({ ttfbMs: ttfbMs ?? NaN, totalMs: since(), firstContentMs: firstContentMs ?? NaN }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface TtfbSummary {
  readonly target: string;
  readonly ttfbMs: number;
  readonly totalMs: number;
  readonly firstContentMs: number;
  /** Set when the target could not stream at all (the other figures are then NaN). */
  readonly error?: string;
}

export async function ttfbSummary(target: LoadTarget, samples: number, api: StreamApi = 'chat'): Promise<TtfbSummary> {
  const out: TtfbSample[] = [];
  try {
    for (let i = 0; i < samples; i++) out.push(await measureTtfb(target, api));
  } catch (err) {
    return { target: target.name, ttfbMs: NaN, totalMs: NaN, firstContentMs: NaN, error: (err as Error).message };
  }
  return {
    target: target.name,
    ttfbMs: median(out.map((s) => s.ttfbMs)),
    totalMs: median(out.map((s) => s.totalMs)),
    firstContentMs: median(out.map((s) => s.firstContentMs)),
  };
}
