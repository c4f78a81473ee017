/** A complete log record for sink tests, built through the real RequestContext so it carries every schema field. */
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import { RequestContext } from '../../../lambda/core/request-context';

export function sampleRecord(id: string, bodies: { request?: string | null; response?: string | null } = {}): RequestLogRecord {
  const ctx = new RequestContext({
    id,
    startedAt: Date.parse('2026-11-24T12:00:00.000Z'),
    path: '/v1/chat/completions',
    userAgent: 'test-agent',
    clientIp: '127.0.0.1',
  });
  ctx.requestedModel = 'gpt-4o';
  return ctx.toRecord(Date.parse('2026-11-24T12:00:00.250Z'), { request: bodies.request ?? '{"model":"gpt-4o"}', response: bodies.response ?? null });
}
