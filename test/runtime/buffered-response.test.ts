import { BufferedRequest, BufferedResponse, jsonResponse } from '../../lambda/core/buffered-response';
import { readBodyText } from '../../lambda/core/body';

describe('in-memory bodies behave like fetch bodies', () => {
  test('a JSON response: status, headers, json() once, then unusable', async () => {
    const res = jsonResponse({ ok: true }, 201, { 'x-request-id': 'req_1' });
    expect(res).toBeInstanceOf(Response);
    expect([res.status, res.ok, res.headers.get('content-type'), res.headers.get('x-request-id')]).toEqual([201, true, 'application/json', 'req_1']);
    expect(res.bodyUsed).toBe(false);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  test('the headers an adapter writes: as given, or as changed through `headers`', () => {
    const res = jsonResponse({ ok: true }, 200, { 'x-request-id': 'req_1' });
    expect(res.headerRecord).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req_1' });
    res.headers.set('x-request-id', 'req_2'); // the admin app stamps its own id after building the answer
    res.headers.append('vary', 'authorization');
    expect(res.headerRecord).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req_2', vary: 'authorization' });
    res.headerRecord['x-request-id'] = 'not written back';
    expect(res.headers.get('x-request-id')).toBe('req_2');
  });

  test('its body is still a stream for consumers that read one', async () => {
    const res = new BufferedResponse('héllo', { status: 200 });
    expect(await new Response(res.body).text()).toBe('héllo');
    expect(res.buffered.toString()).toBe('héllo');
  });

  test('a request with a held body: the core reads it without a stream, others can stream it', async () => {
    const req = new BufferedRequest('http://localhost/v1/x', { method: 'POST', headers: { 'content-type': 'application/json' } }, Buffer.from('{"a":1}'));
    expect(req).toBeInstanceOf(BufferedRequest);
    expect(await readBodyText(req, 100)).toBe('{"a":1}');
    const again = new BufferedRequest('http://localhost/v1/x', { method: 'POST', headers: {} }, Buffer.from('{"a":1}'));
    expect(await new Response(again.body).json()).toEqual({ a: 1 });
  });

  test('the body limit applies to held bodies too', async () => {
    const req = new BufferedRequest('http://localhost/v1/x', { method: 'POST', headers: {} }, Buffer.alloc(101));
    await expect(readBodyText(req, 100)).rejects.toMatchObject({ status: 413 });
  });

  test('no body: a null body, as fetch has it', async () => {
    const req = new BufferedRequest('http://localhost/v1/models', { method: 'get', headers: {} }, undefined);
    expect([req.method, req.url, req.body, req.bodyUsed]).toEqual(['GET', 'http://localhost/v1/models', null, false]);
    expect(await req.text()).toBe('');
    expect(await readBodyText(req, 100)).toBe('');
  });

  test("the adapter's own headers and signal, not copies: an abort reaches the core without a listener chain", () => {
    const headers = new Headers({ authorization: 'Bearer x' });
    const controller = new AbortController();
    const req = new BufferedRequest('http://localhost/v1/x', { method: 'POST', headers, signal: controller.signal }, Buffer.from('{}'));
    expect(req.headers).toBe(headers);
    expect(req.signal).toBe(controller.signal);
    expect(req.signal.aborted).toBe(false);
    controller.abort();
    expect(req.signal.aborted).toBe(true);
    // Without one, a signal that never aborts.
    const plain = new BufferedRequest('http://localhost/v1/x', { method: 'POST', headers: { a: 'b' } }, Buffer.from('{}'));
    expect(plain.signal.aborted).toBe(false);
    expect(plain.headers.get('a')).toBe('b');
  });

  test("URL and method as fetch's Request has them: parsed and normalised, forbidden methods and bad URLs refused", async () => {
    const req = new BufferedRequest('http://localhost/v1/../admin/./keys?x=1', { method: 'post', headers: {} }, Buffer.from('héllo'));
    expect([req.url, req.method]).toEqual(['http://localhost/admin/keys?x=1', 'POST']);
    expect(new BufferedRequest('http://localhost/x', { method: 'Patch', headers: {} }, undefined).method).toBe('Patch'); // fetch keeps other methods as sent
    expect(() => new BufferedRequest('http://localhost/x', { method: 'TRACE', headers: {} }, undefined)).toThrow(/TRACE/);
    expect(() => new BufferedRequest('http://localhost/x', { method: 'track', headers: {} }, undefined)).toThrow(/track/);
    expect(() => new BufferedRequest('http://localhost/x', { method: 'GE T', headers: {} }, undefined)).toThrow(TypeError);
    expect(() => new BufferedRequest('http://[::1/x', { method: 'GET', headers: {} }, undefined)).toThrow();
    // The other body readers, each once.
    expect(Buffer.from(await req.clone().arrayBuffer()).toString()).toBe('héllo');
    expect(await (await req.clone().blob()).text()).toBe('héllo');
    expect(await req.text()).toBe('héllo');
    await expect(req.text()).rejects.toThrow(TypeError);
    expect(() => req.clone()).toThrow(TypeError);
  });
});
