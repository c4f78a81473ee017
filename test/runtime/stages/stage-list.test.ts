/** The stage list: its order, how stages nest around the endpoint, and one record per request whatever ends it. */
import { createGateway } from '../../../lambda/core/app';
import type { GatewayConfig } from '../../../lambda/core/config';
import { defineEndpoint } from '../../../lambda/core/endpoint';
import { errors } from '../../../lambda/core/errors';
import type { KeyStore } from '../../../lambda/core/keys';
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import type { RequestContext } from '../../../lambda/core/request-context';
import { STAGES } from '../../../lambda/core/stages';
import { authorizeModelStage } from '../../../lambda/core/stages/authorize-model';
import { cacheStage } from '../../../lambda/core/stages/cache';
import { identifyStage } from '../../../lambda/core/stages/identify';
import { inputGuardStage } from '../../../lambda/core/stages/input-guard';
import { limitsStage } from '../../../lambda/core/stages/limits';
import { logStage } from '../../../lambda/core/stages/log';
import { outputGuardStage } from '../../../lambda/core/stages/output-guard';
import { parseStage } from '../../../lambda/core/stages/parse';
import type { StageFactory } from '../../../lambda/core/stages/stage';

const config: GatewayConfig = { providers: { mock: { type: 'mock' } }, models: {} };
/** The stub stage lists never identify anyone, so no key is ever looked up. */
const noKeys = {} as KeyStore;

/** A stub stage that notes when it runs before and after `next()`, and when its end hook runs. */
const traced =
  (name: string, trace: string[]): StageFactory =>
  () =>
  async (ctx, next) => {
    trace.push(`${name}:before`);
    ctx.onEnd(() => void trace.push(`${name}:end`));
    const res = await next();
    trace.push(`${name}:after`);
    return res;
  };

const encoder = new TextEncoder();

/** A stream that reports its end through the context, as the gateway's streams do. */
function streamAnswer(ctx: RequestContext, chunks: string[]): Response {
  ctx.endWithBody();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i < chunks.length) return controller.enqueue(encoder.encode(chunks[i++]));
      controller.close();
      await ctx.end({ status: 200 });
    },
    async cancel() {
      await ctx.end({ status: 499, errorCode: 'client_cancelled' });
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

function gatewayWith(trace: string[]) {
  const records: RequestLogRecord[] = [];
  const endpoint = (path: string, handle: (ctx: RequestContext) => Promise<Response>) => () =>
    defineEndpoint<undefined>({
      method: 'GET',
      path,
      handle: async (ctx) => {
        trace.push('handler');
        return handle(ctx);
      },
    });
  const gateway = createGateway({
    config,
    keyStore: noKeys,
    secrets: { get: async () => 'unused' },
    providers: {},
    logSink: { write: (r) => void records.push(r) },
    stages: [logStage, traced('outer', trace), traced('inner', trace)],
    endpoints: [
      endpoint('/json', async () => Response.json({ ok: true })),
      endpoint('/stream', async (ctx) => streamAnswer(ctx, ['a', 'b', 'c'])),
      endpoint('/error', async () => {
        throw errors.badRequest('no');
      }),
      endpoint('/gone', async () => {
        throw errors.clientCancelled();
      }),
    ],
  });
  const get = (path: string) => gateway.fetch(new Request('http://gw.test' + path));
  return { gateway, records, get };
}

test('the request path is log, identify, parse, authorize the model, input guard, limits, cache, output guard, in that order', () => {
  expect(STAGES).toEqual([logStage, identifyStage, parseStage, authorizeModelStage, inputGuardStage, limitsStage, cacheStage, outputGuardStage]);
});

test('stages nest around the endpoint in list order, and end hooks run innermost first', async () => {
  const trace: string[] = [];
  const { get } = gatewayWith(trace);
  await (await get('/json')).text();
  expect(trace).toEqual(['outer:before', 'inner:before', 'handler', 'inner:after', 'outer:after', 'inner:end', 'outer:end']);
});

test('a JSON answer is logged exactly once, after every stage has returned', async () => {
  const trace: string[] = [];
  const { get, records } = gatewayWith(trace);
  const res = await get('/json');
  expect(await res.json()).toEqual({ ok: true });
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ endpoint: '/json', status: 200, error_code: null });
});

test('a stream is logged exactly once, after its last byte and not before', async () => {
  const trace: string[] = [];
  const { get, records } = gatewayWith(trace);
  const res = await get('/stream');
  // The stages have all returned; the stream has not been read.
  expect(trace).toContain('outer:after');
  expect(records).toHaveLength(0);
  expect(trace).not.toContain('inner:end');
  expect(await res.text()).toBe('abc');
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ endpoint: '/stream', status: 200 });
  expect(trace.slice(-2)).toEqual(['inner:end', 'outer:end']);
});

test('an error is rendered and logged exactly once, with its status and code', async () => {
  const trace: string[] = [];
  const { get, records } = gatewayWith(trace);
  const res = await get('/error');
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } });
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ status: 400, error_code: 'invalid_request' });
  // A stage that threw past did not reach its after-part; every end hook still ran.
  expect(trace).not.toContain('inner:after');
  expect(trace.slice(-2)).toEqual(['inner:end', 'outer:end']);
});

test('a client that leaves mid-stream is logged exactly once, as 499', async () => {
  const trace: string[] = [];
  const { get, records } = gatewayWith(trace);
  const res = await get('/stream');
  const reader = res.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe('a');
  await reader.cancel();
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ status: 499, error_code: 'client_cancelled' });
  expect(trace.filter((t) => t.endsWith(':end'))).toEqual(['inner:end', 'outer:end']);
});

test('a client that left before the answer is logged exactly once, as 499', async () => {
  const trace: string[] = [];
  const { get, records } = gatewayWith(trace);
  await get('/gone');
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ status: 499, error_code: 'client_cancelled' });
});

test('a path no endpoint serves is logged once as 404, before any other stage runs', async () => {
  const trace: string[] = [];
  const { get, records } = gatewayWith(trace);
  expect((await get('/nowhere')).status).toBe(404);
  expect(trace).toEqual([]);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ status: 404, error_code: 'route_not_found' });
});
