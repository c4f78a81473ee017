/**
 * The Responses stream encoder for an answer that may have come natively: when the upstream spoke
 * the Responses format itself, its own events are relayed as it sent them (built-in tool events,
 * annotations and all), with the gateway's response id (and chain and storage flag) in every
 * response object and the gateway's own sequence numbers, so the client sees one consistent
 * stream. Each event leaves as soon as it arrives (the provider notes every event on a chunk, an
 * empty one when it has no canonical meaning), except what must wait: the events before the
 * stream's first content, which the router holds so another target can still serve (stream.ts,
 * peekFirstContent), and the final response.completed (or response.incomplete), held until the
 * response is stored, as the translated encoder does. A failure ends with response.failed carrying
 * what was delivered. A stream without native events (another target served it, a stage rewrote it, or a
 * cache hit) is encoded from its canonical chunks (encoder.ts).
 */
import type { GatewayError } from '../../errors';
import type { NativeResponsesAnswer } from '../../provider';
import { encodeSseEvent } from '../../sse';
import type { StreamEncoder } from '../../stream-response';
import type { ChatCompletionChunk } from '../../../apischema/openai';
import { type ResponsesEncoderOptions, responsesSseEncoder } from './encoder';
import { asGatewayResponse } from './native';
import { type OutputItem, type ResponseObject, type ResponseStreamEvent, TERMINAL_EVENT_TYPES } from './wire';

export function responsesStreamEncoder(o: ResponsesEncoderOptions, native: NativeResponsesAnswer | undefined): StreamEncoder {
  const translated = responsesSseEncoder(o);
  let mode: 'native' | 'translated' | undefined;
  let seq = 0;
  /** The latest response object the upstream sent (under the gateway's id), and the output items it has announced. */
  let latest: ResponseObject = o.shell;
  const output: OutputItem[] = [];
  let terminal: ResponseStreamEvent | undefined;

  const relay = (ev: ResponseStreamEvent): Uint8Array[] => {
    const { sequence_number: _upstreamSeq, ...rest } = ev;
    const out: ResponseStreamEvent = { ...rest };
    if (ev.response && typeof ev.response === 'object') out.response = latest = asGatewayResponse(ev.response as ResponseObject, o.shell);
    if ((ev.type === 'response.output_item.added' || ev.type === 'response.output_item.done') && typeof ev.output_index === 'number')
      output[ev.output_index] = ev.item as OutputItem;
    if (TERMINAL_EVENT_TYPES.has(ev.type)) {
      terminal = out;
      return [];
    }
    return [encodeSseEvent(out.type, { ...out, sequence_number: seq++ })];
  };

  return {
    contentType: translated.contentType,
    chunk(chunk: ChatCompletionChunk): Uint8Array[] {
      const events = native?.events(chunk);
      mode ??= events ? 'native' : 'translated';
      if (mode === 'translated') return translated.chunk(chunk);
      // A chunk after the first an event produced (the usage after the finish) has none of its own.
      return (events ?? []).flatMap(relay);
    },
    async done(): Promise<Uint8Array[]> {
      if (mode !== 'native') return translated.done();
      let final: ResponseObject = (terminal?.response as ResponseObject | undefined) ?? { ...latest, status: 'completed', output: output.filter(Boolean) };
      if (o.onComplete) final = await o.onComplete(final);
      const type = terminal?.type ?? 'response.completed';
      return [encodeSseEvent(type, { ...terminal, type, response: final, sequence_number: seq++ })];
    },
    error(gw: GatewayError): Uint8Array[] {
      if (mode !== 'native') return translated.error(gw);
      const failed: ResponseObject = { ...latest, status: 'failed', output: output.filter(Boolean), error: { code: gw.code, message: gw.message } };
      return [encodeSseEvent('response.failed', { type: 'response.failed', response: failed, sequence_number: seq++ })];
    },
  };
}
