/** Adding a stage is one file and one line in the list: a header-stamping stage reaches JSON answers, streams and errors alike. */
import { startTestGateway, type TestGateway } from '../../helpers/gateway';
import { STAGES } from '../../../lambda/core/stages';
import { versionHeaderStage } from './version-header-stage';

let gw: TestGateway;
let key: string;

beforeAll(async () => {
  gw = await startTestGateway(
    { providers: { mock: { type: 'mock' } }, models: { m: { targets: [{ provider: 'mock', model: 'echo' }] } } },
    {
      overrides: {
        // The one line: the new stage, outermost, so error answers pass through it too.
        stages: [versionHeaderStage, ...STAGES],
      },
    },
  );
  key = (await gw.createKey()).key;
});
afterAll(() => gw.close());

test('a JSON answer carries the stamped header', async () => {
  const res = await gw.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, key);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-gateway-version')).toBe('test-1');
  await res.text();
});

test('a stream carries the stamped header and still ends complete', async () => {
  const res = await gw.post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
  expect(res.headers.get('x-gateway-version')).toBe('test-1');
  expect(await res.text()).toContain('data: [DONE]');
});

test('an error answer carries the stamped header', async () => {
  const res = await gw.post('/v1/chat/completions', { model: 'm', messages: [] }, key);
  expect(res.status).toBe(400);
  expect(res.headers.get('x-gateway-version')).toBe('test-1');
  await res.text();
});

test('the Messages endpoint gets the stage without any change of its own', async () => {
  const res = await gw.post('/v1/messages', { model: 'm', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, key);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-gateway-version')).toBe('test-1');
  await res.text();
});
