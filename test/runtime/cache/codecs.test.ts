/**
 * The cache codecs: a stored answer replayed as a real multi-event stream assembles back into the
 * same answer (text, tool calls and usage identical); a stream that was cut, failed or carried
 * something the cache cannot replay is never assembled (so never stored).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { CACHE_CODECS } from '../../../lambda/core/cache/codecs';
import { pieces } from '../../../lambda/core/cache/codecs/types';

function events(bytes: Uint8Array[]): EventSourceMessage[] {
  const out: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => out.push(e) });
  const dec = new TextDecoder();
  for (const b of bytes) parser.feed(dec.decode(b, { stream: true }));
  return out;
}

function assemble(endpoint: string, evs: EventSourceMessage[]) {
  const a = CACHE_CODECS[endpoint].assembler();
  for (const e of evs) a.event(e);
  return a.result();
}

const chatAnswer = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The contract binds both parties to deliver widgets by March, with penalties for delay.', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 31, completion_tokens: 17, total_tokens: 48 },
  system_fingerprint: 'fp_1',
};

const toolAnswer = {
  ...chatAnswer,
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"city":"Paris","units":"metric","days":3}' } }],
        refusal: null,
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    },
  ],
};

const messagesAnswer = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'The user wants a summary of the contract terms.', signature: 'sig' },
    { type: 'text', text: 'Widgets by March; penalties apply for late delivery.' },
    { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { city: 'Paris', days: 3 } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 40, output_tokens: 22, cache_read_input_tokens: 0 },
};

const responsesAnswer = {
  id: 'resp_1',
  object: 'response',
  created_at: 1_700_000_000,
  status: 'completed',
  model: 'gpt-4o-mini',
  output: [
    {
      type: 'message',
      id: 'msg_1',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Widgets by March, with penalties.', annotations: [] }],
    },
    { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '{"city":"Paris"}', status: 'completed' },
  ],
  usage: { input_tokens: 12, output_tokens: 9, total_tokens: 21 },
};

describe.each([
  ['/v1/chat/completions', chatAnswer],
  ['/v1/chat/completions', toolAnswer],
  ['/v1/messages', messagesAnswer],
  ['/v1/responses', responsesAnswer],
])('%s', (endpoint, answer) => {
  const codec = CACHE_CODECS[endpoint];

  test('replays as several events and assembles back to the identical answer, usage included', () => {
    const evs = events(codec.replay(answer, { includeUsage: true }));
    expect(evs.length).toBeGreaterThan(4);
    expect(assemble(endpoint, evs)).toEqual(answer);
    expect(codec.usage(answer)).toEqual(codec.usage(assemble(endpoint, evs)));
  });

  test('a stream cut before its end marker is never assembled', () => {
    const evs = events(codec.replay(answer, { includeUsage: true }));
    for (const cut of [1, Math.floor(evs.length / 2), evs.length - 1]) expect(assemble(endpoint, evs.slice(0, cut))).toBeUndefined();
  });

  test('a stream with an in-band error is never assembled', () => {
    const evs = events(codec.replay(answer, { includeUsage: true }));
    const error: EventSourceMessage = {
      event: 'error',
      data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'x' } }),
      id: undefined,
    };
    expect(assemble(endpoint, [...evs.slice(0, 3), error, ...evs.slice(3)])).toBeUndefined();
  });
});

describe('chat specifics', () => {
  const codec = CACHE_CODECS['/v1/chat/completions'];

  test('usage is replayed only to a client that asked for it, and filled in from the request when the stream had none', () => {
    const evs = events(codec.replay(chatAnswer, { includeUsage: false }));
    expect(evs.some((e) => e.data.includes('"usage"'))).toBe(false);
    const assembled = assemble('/v1/chat/completions', evs);
    expect(assembled).toEqual({ ...chatAnswer, usage: undefined });
    expect(codec.withUsage(assembled, { promptTokens: 31, completionTokens: 17 })).toEqual(chatAnswer);
  });

  test('tool-call answers are recognised (they are served exactly only)', () => {
    expect(codec.callsTools(toolAnswer)).toBe(true);
    expect(codec.callsTools(chatAnswer)).toBe(false);
    expect(CACHE_CODECS['/v1/messages'].callsTools(messagesAnswer)).toBe(true);
    expect(CACHE_CODECS['/v1/responses'].callsTools(responsesAnswer)).toBe(true);
  });

  test('an answer carrying log probabilities is not stored', () => {
    const evs = events(codec.replay(chatAnswer, { includeUsage: true }));
    const withLogprobs = evs.map((e, i) =>
      i === 1 ? { ...e, data: e.data.replace('"finish_reason":null', '"finish_reason":null,"logprobs":{"content":[]}') } : e,
    );
    expect(assemble('/v1/chat/completions', withLogprobs)).toBeUndefined();
  });

  test('several choices replay interleaved by index and assemble back', () => {
    const two = {
      ...chatAnswer,
      choices: [chatAnswer.choices[0], { ...chatAnswer.choices[0], index: 1, message: { ...chatAnswer.choices[0].message, content: 'Other.' } }],
    };
    expect(assemble('/v1/chat/completions', events(codec.replay(two, { includeUsage: true })))).toEqual(two);
  });
});

test('an unknown Anthropic delta makes the answer unstorable rather than stored wrong', () => {
  const evs = events(CACHE_CODECS['/v1/messages'].replay(messagesAnswer, {}));
  const odd: EventSourceMessage = {
    event: 'content_block_delta',
    data: JSON.stringify({ type: 'content_block_delta', index: 1, delta: { type: 'future_delta' } }),
    id: undefined,
  };
  expect(assemble('/v1/messages', [...evs.slice(0, 4), odd, ...evs.slice(4)])).toBeUndefined();
});

test('pieces split text into stream-sized parts that join back exactly', () => {
  const text = '  Hello there,\n\nthis is   a long-ish answer with a verylongwordthatexceedsthelimitforsure. ';
  const p = pieces(text, 12);
  expect(p.length).toBeGreaterThan(4);
  expect(p.join('')).toBe(text);
  expect(pieces('')).toEqual([]);
});
