/**
 * The output guard on streams, without buffering the whole answer. Text is held back in a window
 * (`windowChars`, default 256, at least the longest literal of any pattern) so that a match split
 * across chunks is still caught: each check runs over the held text, and text is released only once
 * `windowChars` more have arrived after it (so any match it could be part of, up to the window's
 * length, has been seen whole). Releases come in batches of a quarter window, so each character is
 * checked about five times at most: linear in the answer. Redaction is applied before release; a
 * block ends the stream with an in-band `guardrail_blocked` error event and no end marker (the
 * stream layer renders a thrown GatewayError that way).
 *
 * It works on the canonical chunk stream, which chat completions, messages and responses all
 * encode from: one engine for the three. Tool-call arguments are held until their choice finishes
 * and checked whole (clients use them whole). With Amazon Bedrock Guardrails on output, each
 * released batch is one ApplyGuardrail call: about (answer length / (windowChars / 4)) + 1 calls
 * per stream per choice.
 */
import type { ChatCompletionChunk } from '../../apischema/openai';
import { replaceSpans } from '../redaction';
import type { PeekedStream } from '../stream';
import { type GuardAction, GuardBlocked, type GuardSet, guardBlockedError, noteRedactions } from './engine';
import { DEFAULT_WINDOW_CHARS } from './policy';

/** One choice's text on its way out: push what arrives, get back what is safe to release. */
export class StreamWindow {
  private held = '';
  private readonly batch: number;

  constructor(
    private readonly guard: GuardSet,
    private readonly actions: GuardAction[],
    private readonly window: number = guard.windowChars() || DEFAULT_WINDOW_CHARS,
  ) {
    this.batch = Math.max(1, Math.floor(this.window / 4));
  }

  /** Add text; returns the (redacted) text now safe to release, often ''. Throws GuardBlocked. */
  push(text: string): Promise<string> {
    this.held += text;
    if (this.held.length < this.window + this.batch) return Promise.resolve('');
    return this.release(false);
  }

  /** The stream's end: check and release everything held. */
  end(): Promise<string> {
    return this.release(true);
  }

  private async release(final: boolean): Promise<string> {
    const result = this.guard.scan(this.held, 'output');
    if (result.blocked) throw result.blocked;
    let cut = final ? this.held.length : this.held.length - this.window;
    // Release up to a word's end when one is near, so a checker that sees one batch at a time
    // (a Bedrock guardrail) is not handed half a word or half an address.
    // A word longer than what is held before the cut waits for one more batch (at most a window's
    // worth, then it is cut anyway: the held text stays bounded).
    if (!final) {
      let p = cut - 1;
      while (p >= 0 && !/\s/.test(this.held[p])) p--;
      if (p >= 0) cut = p + 1;
      else if (this.held.length < 2 * this.window + this.batch) cut = 0;
    }
    // Never cut through a redaction: the span goes out whole with the next release.
    for (const s of result.spans) if (s.start < cut && s.end > cut) cut = s.start;
    const spans = result.spans.filter((s) => s.end <= cut);
    noteRedactions(spans, 'output', this.actions);
    const out = replaceSpans(this.held.slice(0, cut), spans);
    this.held = this.held.slice(cut);
    if (!out) return out;
    const [checked] = await this.guard.checkGuardrails([out], 'output', this.actions);
    return checked;
  }
}

type Choice = ChatCompletionChunk['choices'][number];
type ToolCallDelta = NonNullable<Choice['delta']['tool_calls']>[number];

/** The canonical chunks, guarded: text released through a window per choice, tool calls checked whole. */
export async function* guardChunks(chunks: AsyncIterable<ChatCompletionChunk>, guard: GuardSet, actions: GuardAction[]): AsyncGenerator<ChatCompletionChunk> {
  const windows = new Map<number, StreamWindow>();
  const toolCalls = new Map<number, ToolCallDelta[]>();
  const windowFor = (index: number) => {
    let w = windows.get(index);
    if (!w) windows.set(index, (w = new StreamWindow(guard, actions)));
    return w;
  };
  let last: ChatCompletionChunk | undefined;
  try {
    for await (const chunk of chunks) {
      last = chunk;
      const choices: Choice[] = [];
      for (const c of chunk.choices) {
        const { content, tool_calls, ...delta } = c.delta ?? {};
        let text = typeof content === 'string' && content ? await windowFor(c.index).push(content) : '';
        if (tool_calls?.length) holdToolCalls(toolCalls, c.index, tool_calls);
        let calls: ToolCallDelta[] | undefined;
        if (c.finish_reason) {
          text += await windowFor(c.index).end();
          windows.delete(c.index);
          calls = await checkToolCalls(toolCalls.get(c.index), guard, actions);
          toolCalls.delete(c.index);
        }
        const out: Choice['delta'] = { ...delta };
        if (text || (typeof content === 'string' && !content && delta.role)) out.content = text;
        if (calls?.length) out.tool_calls = calls;
        if (Object.keys(out).length || c.finish_reason) choices.push({ ...c, delta: out });
      }
      if (choices.length || chunk.usage || chunk.choices.length === 0) yield { ...chunk, choices };
    }
    // An upstream that ended without finishing its choices: release what they hold.
    for (const [index, w] of windows) {
      const text = await w.end();
      const calls = await checkToolCalls(toolCalls.get(index), guard, actions);
      if ((text || calls?.length) && last)
        yield {
          ...last,
          usage: undefined,
          choices: [{ index, delta: { ...(text ? { content: text } : {}), ...(calls?.length ? { tool_calls: calls } : {}) }, finish_reason: null }],
        };
    }
  } catch (err) {
    if (err instanceof GuardBlocked) throw guardBlockedError(err);
    throw err;
  }
}

function holdToolCalls(held: Map<number, ToolCallDelta[]>, choice: number, deltas: readonly ToolCallDelta[]): void {
  const list = held.get(choice) ?? [];
  held.set(choice, list);
  for (const d of deltas) {
    const existing = list.find((x) => x.index === d.index);
    if (!existing) list.push({ ...d, function: { ...d.function, arguments: d.function?.arguments ?? '' } });
    else {
      existing.id ??= d.id;
      existing.type ??= d.type;
      const fn = (existing.function ??= {});
      fn.name ??= d.function?.name;
      fn.arguments = (fn.arguments ?? '') + (d.function?.arguments ?? '');
    }
  }
}

async function checkToolCalls(calls: ToolCallDelta[] | undefined, guard: GuardSet, actions: GuardAction[]): Promise<ToolCallDelta[] | undefined> {
  if (!calls?.length) return calls;
  const args = await guard.check(
    calls.map((c) => c.function?.arguments ?? ''),
    'output',
    actions,
  );
  return calls.map((c, i) => ({ ...c, function: { ...c.function, arguments: args[i] } }));
}

/** A peeked stream (the router's committed stream), guarded. */
export function guardPeekedStream(peeked: PeekedStream, guard: GuardSet, actions: GuardAction[]): PeekedStream {
  if (!guard.active('output')) return peeked;
  async function* replay(): AsyncGenerator<ChatCompletionChunk> {
    try {
      yield* peeked.buffered;
      if (peeked.ended) return;
      for (;;) {
        const r = await peeked.rest.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // A block ends the stream early: stop reading the upstream.
      await peeked.rest.return?.(undefined)?.catch(() => undefined);
    }
  }
  return { buffered: [], rest: guardChunks(replay(), guard, actions)[Symbol.asyncIterator](), ended: false };
}
