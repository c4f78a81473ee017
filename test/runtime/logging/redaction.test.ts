/** Redaction rules and logging policies on sample request and response bodies. */
import { bodiesForPolicy, summariseEmbeddings } from '../../../lambda/core/logging-policy';
import { luhnValid, redactText, redactValue } from '../../../lambda/core/redaction';

const VIRTUAL_KEY = 'sk-gw-' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v';
const OPENAI_KEY = 'sk-proj-' + 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe';
const ANTHROPIC_KEY = 'sk-ant-api03-' + 'abcdefghijklmnopqrstuvwxyz0123456789';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('redactText', () => {
  test.each([
    ['email', 'write to alice.smith+billing@example.co.uk today', 'write to [REDACTED:email] today'],
    ['card with spaces (Visa test number)', 'card 4111 1111 1111 1111 exp 12/29', 'card [REDACTED:card] exp 12/29'],
    ['card with dashes', 'pay with 5555-5555-5555-4444.', 'pay with [REDACTED:card].'],
    ['card digits only (Amex, 15)', 'amex 378282246310005', 'amex [REDACTED:card]'],
    ['international phone', 'call +1 (555) 123-4567 now', 'call [REDACTED:phone] now'],
    ['UK phone', 'ring +44 20 7946 0958', 'ring [REDACTED:phone]'],
    ['national phone with brackets', 'office (555) 123-4567', 'office [REDACTED:phone]'],
    ['dotted phone', 'cell 555.123.4567', 'cell [REDACTED:phone]'],
    ['IBAN in groups', 'wire to DE89 3704 0044 0532 0130 00 today', 'wire to [REDACTED:iban] today'],
    ['compact IBAN', 'IBAN GB82WEST12345698765432.', 'IBAN [REDACTED:iban].'],
    ['US SSN', 'SSN 123-45-6789 on file', 'SSN [REDACTED:ssn] on file'],
    ['OpenAI key', `my key is ${OPENAI_KEY}`, 'my key is [REDACTED:secret]'],
    ['Anthropic key', `ANTHROPIC_API_KEY ${ANTHROPIC_KEY}`, 'ANTHROPIC_API_KEY [REDACTED:secret]'],
    ['gateway virtual key', `use ${VIRTUAL_KEY} here`, 'use [REDACTED:secret] here'],
    ['AWS access key id', 'AKIAIOSFODNN7EXAMPLE is the id', '[REDACTED:secret] is the id'],
    ['JWT', `token ${JWT}`, 'token [REDACTED:secret]'],
    ['bearer token in a pasted curl', 'curl -H "Authorization: Bearer abcdef0123456789abcdef"', 'curl -H "Authorization: [REDACTED:secret]"'],
    ['key=value secret', 'password=hunter2hunter2 and api_key: "q1w2e3r4t5y6"', 'password=[REDACTED:secret] and api_key: "[REDACTED:secret]"'],
  ])('redacts %s', (_name, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  test.each([
    ['an ISO date', 'on 2026-11-24 at 12:30'],
    ['a version and an IP', 'v1.2.3 on 192.168.1.1'],
    ['counts and ids', 'max_tokens 4096, order 123456, id 9876543210'],
    ['a 16-digit number failing Luhn', 'ref 1234 5678 9012 3456'],
    ['prose with @ that is no address', 'ping @alice about it'],
    ['a short sk- word', 'sk-learn is a library'],
    ['an IBAN-shaped string failing mod-97', 'code DE89 3704 0044 0532 0130 01'],
    ['a never-issued SSN and a part number', 'ids 000-12-3456, 666-12-3456, 123-00-4567 and part 12-34-56'],
    ['upper-case words and model ids', 'USE GPT4O AND CLAUDE35 SONNET'],
  ])('leaves %s alone', (_name, input) => {
    expect(redactText(input)).toBe(input);
  });

  test('Luhn check', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});

const chatRequest = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are support. Customer email: bob@example.com' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'My card 4242 4242 4242 4242 was charged twice, call me on +49 30 1234 5678' },
        { type: 'image_url', image_url: { url: 'https://example.com/receipt.png' } },
      ],
    },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"email":"bob@example.com"}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: `{"api_key":"${OPENAI_KEY}"}` },
  ],
  metadata: { api_key: 'plain-looking-value', note: 'ok' },
  max_tokens: 100,
};

const chatResponse = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'I emailed bob@example.com and refunded card ending 4242.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62 },
};

describe('logging policies', () => {
  test("'metadata' logs no bodies", () => {
    expect(bodiesForPolicy('metadata', chatRequest, chatResponse)).toEqual({ request: null, response: null });
  });

  test("'redacted' redacts every string of nested message contents, parts and tool calls, and keeps the structure", () => {
    const { request, response } = bodiesForPolicy('redacted', chatRequest, chatResponse);
    const req = JSON.parse(request!);
    expect(req.model).toBe('gpt-4o');
    expect(req.max_tokens).toBe(100);
    expect(req.messages[0].content).toBe('You are support. Customer email: [REDACTED:email]');
    expect(req.messages[1].content[0].text).toBe('My card [REDACTED:card] was charged twice, call me on [REDACTED:phone]');
    expect(req.messages[1].content[1].image_url.url).toBe('https://example.com/receipt.png');
    expect(req.messages[2].tool_calls[0].function.arguments).toBe('{"email":"[REDACTED:email]"}');
    expect(req.messages[3].content).toBe('{"api_key":"[REDACTED:secret]"}');
    expect(req.metadata).toEqual({ api_key: '[REDACTED:secret]', note: 'ok' });
    expect(JSON.parse(response!).choices[0].message.content).toBe('I emailed [REDACTED:email] and refunded card ending 4242.');
    expect(JSON.parse(response!).usage.total_tokens).toBe(62);
  });

  test("'redacted' applies to a streamed response collected as text", () => {
    expect(bodiesForPolicy('redacted', null, 'Reach me at carol@example.org').response).toBe('Reach me at [REDACTED:email]');
  });

  test("'full' keeps personal data but never a secrets-looking string or a credential-named field", () => {
    const body = {
      messages: [{ role: 'user', content: `email dave@example.com, call +1 555 123 4567, my gateway key ${VIRTUAL_KEY}, theirs ${OPENAI_KEY}` }],
      api_key: 'whatever',
    };
    const { request, response } = bodiesForPolicy('full', body, `token ${JWT} for card 4111 1111 1111 1111`);
    expect(JSON.parse(request!)).toEqual({
      messages: [{ role: 'user', content: 'email dave@example.com, call +1 555 123 4567, my gateway key [REDACTED:secret], theirs [REDACTED:secret]' }],
      api_key: '[REDACTED:secret]',
    });
    expect(response).toBe('token [REDACTED:secret] for card 4111 1111 1111 1111');
  });

  test('an unknown policy value logs no bodies', () => {
    expect(bodiesForPolicy('everything' as never, chatRequest, chatResponse)).toEqual({ request: null, response: null });
  });

  test('embedding vectors are summarised, not logged', () => {
    const res = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model: 'text-embedding-3-small' };
    expect(summariseEmbeddings(res)).toEqual({ ...res, data: [{ object: 'embedding', index: 0, embedding: '[embedding: 3 values]' }] });
    expect(JSON.parse(bodiesForPolicy('full', { input: 'x' }, res).response!).data[0].embedding).toBe('[embedding: 3 values]');
  });

  test('redactValue leaves numbers, booleans and nulls as they are', () => {
    expect(redactValue({ a: 1, b: true, c: null, d: ['x@y.io'] })).toEqual({ a: 1, b: true, c: null, d: ['[REDACTED:email]'] });
  });
});
