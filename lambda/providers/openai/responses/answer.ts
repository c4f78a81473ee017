/**
 * The upstream's own Responses answer behind the canonical objects a native call produced (the
 * port's NativeResponsesAnswer), for /v1/responses to relay as the upstream sent it. Kept by
 * object identity in weak maps, as the Messages answer is: a completion or chunk a stage rewrote
 * (the output guard) is a new object with no native answer, so the endpoint encodes the rewrite.
 */
import type { ResponseObject, ResponseStreamEvent } from '../../../apischema/responses';
import type { ChatCompletion, ChatCompletionChunk, NativeResponsesAnswer } from '../../types';

export class ResponsesAnswer implements NativeResponsesAnswer {
  readonly format = 'responses' as const;
  private readonly responses = new WeakMap<ChatCompletion, ResponseObject>();
  private readonly eventGroups = new WeakMap<ChatCompletionChunk, readonly ResponseStreamEvent[]>();

  response(of: ChatCompletion): ResponseObject | undefined {
    return this.responses.get(of);
  }

  events(of: ChatCompletionChunk): readonly ResponseStreamEvent[] | undefined {
    return this.eventGroups.get(of);
  }

  /** The upstream sent `response`, translated to `completion`. */
  noteResponse(completion: ChatCompletion, response: ResponseObject): ChatCompletion {
    this.responses.set(completion, response);
    return completion;
  }

  /** The upstream's `events` produced `chunk` (and the chunks right after it), or ride on it when they produced none. */
  noteEvents(chunk: ChatCompletionChunk, events: readonly ResponseStreamEvent[]): void {
    this.eventGroups.set(chunk, events);
  }
}
