/**
 * An endpoint is the innermost handler of the stage list: it knows its wire format (how to read the
 * client's body, how to answer) and nothing of keys, limits, caching, guards or logging, which the
 * stages around it apply to every endpoint alike.
 */
import type { ErrorFormat } from './errors';
import type { NativeRequest } from './provider';
import type { RequestContext } from './request-context';
import type { ChatRequest, EmbeddingsRequest } from '../apischema/openai';

/** What every model call tells the stages: which model, and what it may consume (reserved by the limits stage). */
interface CallEstimate {
  /** The model the client named: a configured model, or `provider/model`. */
  readonly model: string;
  /** Prompt tokens estimated from the request (also the usage when a provider reports none). */
  readonly promptTokens: number;
  /** Output tokens the request may produce (its cap), reserved before the call. */
  readonly outputTokens: number;
}

/** A chat-shaped call (chat completions, messages, …) in the canonical (OpenAI chat) format. */
export interface ChatCall extends CallEstimate {
  readonly kind: 'chat';
  readonly request: ChatRequest;
  /**
   * The client's own body, when its format is one some providers speak natively (/v1/messages):
   * the handler hands it to a target whose provider speaks it, instead of the translation.
   */
  readonly native?: NativeRequest;
}

export interface EmbeddingsCall extends CallEstimate {
  readonly kind: 'embeddings';
  readonly request: EmbeddingsRequest;
}

/** The validated request, as the stages between parsing and the handler see it (guards, limits, cache). */
export type ModelCall = ChatCall | EmbeddingsCall;

export interface Endpoint<C extends ModelCall | undefined = ModelCall | undefined> {
  readonly method: string;
  /** The path, or a template with one `{id}` segment (`/v1/responses/{id}`); the record's `endpoint` names it. */
  readonly path: string;
  /** How its errors are written. @default 'openai' */
  readonly errorFormat?: ErrorFormat;
  /** Its JSON body's `stream: true` asks for a streamed answer. @default false */
  readonly streams?: boolean;
  /**
   * Validate the JSON body (a GatewayError 400 on bad input) and say what it asks of a model, as
   * the complete canonical request (reading what it refers to, e.g. a stored previous response of
   * this key: ctx.key is known). The parse stage calls it; endpoints without a body or a model call
   * (GET /v1/models) have none.
   */
  readonly parse?: (body: Record<string, unknown>, ctx: RequestContext) => C | Promise<C>;
  /** Its model call spends tokens, so the limits stage reserves them. False for calls that only count (count_tokens). @default true */
  readonly spends?: boolean;
  /** Answer the request: translate, call the router, respond. `call` is what `parse` returned. */
  readonly handle: (ctx: RequestContext, call: C) => Promise<Response>;
}

/** Typed in one place: the endpoint's `handle` receives what its own `parse` returned (the parse stage stores it on ctx.call). */
export function defineEndpoint<C extends ModelCall | undefined>(endpoint: Endpoint<C>): Endpoint {
  return endpoint as unknown as Endpoint;
}
