/**
 * Time to first byte of a streamed chat completion. The bench upstream sends its first content
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

export function measureTtfb(target: LoadTarget): Promise<TtfbSample> {
  const body = JSON.stringify({ ...JSON.parse(target.body), stream: true });
  const url = new URL(target.url + '/v1/chat/completions');
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

export async function ttfbSummary(target: LoadTarget, samples: number): Promise<TtfbSummary> {
  const out: TtfbSample[] = [];
  try {
    for (let i = 0; i < samples; i++) out.push(await measureTtfb(target));
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
