/**
 * The upstream's own Messages answer behind the canonical objects a native call produced (the
 * port's NativeMessagesAnswer), for /v1/messages to replay as the upstream sent it. Kept by object
 * identity in weak maps: a completion or chunk a stage rewrote is a new object, with no native
 * answer, so the endpoint encodes the rewrite; and nothing is kept past the objects themselves.
 */
import type { AnthropicResponse, AnthropicStreamEvent } from '../../apischema/anthropic';
import type { ChatCompletion, ChatCompletionChunk, NativeMessagesAnswer } from '../types';

export class MessagesAnswer implements NativeMessagesAnswer {
  readonly format = 'messages' as const;
  private readonly messages = new WeakMap<ChatCompletion, AnthropicResponse>();
  private readonly eventGroups = new WeakMap<ChatCompletionChunk, readonly AnthropicStreamEvent[]>();

  message(of: ChatCompletion): AnthropicResponse | undefined {
    return this.messages.get(of);
  }

  events(of: ChatCompletionChunk): readonly AnthropicStreamEvent[] | undefined {
    return this.eventGroups.get(of);
  }

  /** The upstream sent `message`, translated to `completion`. */
  noteMessage(completion: ChatCompletion, message: AnthropicResponse): ChatCompletion {
    this.messages.set(completion, message);
    return completion;
  }

  /** The upstream's `events` produced `chunk` (and the chunks right after it), or ride on it when they produced none. */
  noteEvents(chunk: ChatCompletionChunk, events: readonly AnthropicStreamEvent[]): void {
    this.eventGroups.set(chunk, events);
  }
}
