/**
 * /v1/responses answers for the cache: a Response object ↔ its semantic events (response.created …
 * response.completed, each with its sequence_number). A stream is stored from its
 * `response.completed` event, which carries the whole response; `response.failed`,
 * `response.incomplete` or `error` mean it is not stored.
 */
import { encodeSseEvent } from '../../sse';
import { type CacheCodec, isObject, parseData, pieces, type StreamAssembler, type Usage } from './types';

type Item = Record<string, unknown> & { type: string; id?: string };

function responsesAssembler(): StreamAssembler {
  let completed: unknown;
  let broken = false;
  return {
    event(e) {
      if (broken || completed) return;
      const ev = parseData(e);
      if (!isObject(ev) || typeof ev.type !== 'string') return void (broken = true);
      if (ev.type === 'response.completed' && isObject(ev.response) && ev.response.status === 'completed') completed = ev.response;
      else if (ev.type === 'response.failed' || ev.type === 'response.incomplete' || ev.type === 'error') broken = true;
    },
    result: () => (broken ? undefined : completed),
  };
}

export const responsesCodec: CacheCodec = {
  streams: true,
  assembler: responsesAssembler,
  replay(body) {
    const res = body as Record<string, unknown> & { output?: Item[] };
    let seq = 0;
    const out: Uint8Array[] = [];
    const emit = (type: string, data: Record<string, unknown>) => out.push(encodeSseEvent(type, { type, sequence_number: seq++, ...data }));
    const pending = { ...res, status: 'in_progress', output: [], usage: null };
    emit('response.created', { response: pending });
    emit('response.in_progress', { response: pending });
    (res.output ?? []).forEach((item, output_index) => {
      const item_id = item.id;
      if (item.type === 'message' && Array.isArray(item.content)) {
        emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
        (item.content as Item[]).forEach((part, content_index) => {
          const text = typeof part.text === 'string' ? part.text : undefined;
          emit('response.content_part.added', { item_id, output_index, content_index, part: text !== undefined ? { ...part, text: '' } : part });
          if (text !== undefined) {
            for (const delta of pieces(text)) emit('response.output_text.delta', { item_id, output_index, content_index, delta, logprobs: [] });
            emit('response.output_text.done', { item_id, output_index, content_index, text, logprobs: [] });
          }
          emit('response.content_part.done', { item_id, output_index, content_index, part });
        });
      } else if (item.type === 'function_call' && typeof item.arguments === 'string') {
        emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
        for (const delta of pieces(item.arguments, 48)) emit('response.function_call_arguments.delta', { item_id, output_index, delta });
        emit('response.function_call_arguments.done', { item_id, output_index, arguments: item.arguments });
      } else {
        emit('response.output_item.added', { output_index, item });
      }
      emit('response.output_item.done', { output_index, item });
    });
    emit('response.completed', { response: res });
    return out;
  },
  usage(body): Usage | undefined {
    const u = (body as { usage?: { input_tokens?: number; output_tokens?: number } }).usage;
    return u ? { promptTokens: u.input_tokens ?? 0, completionTokens: u.output_tokens ?? 0 } : undefined;
  },
  withUsage: (body) => body,
  callsTools: (body) => ((body as { output?: Item[] }).output ?? []).some((i) => i.type !== 'message' && i.type !== 'reasoning'),
};
