/**
 * The output guard on streams, without buffering the whole answer. Text is held back only while a
 * match might still be in progress through it: each check runs over the held text (deny rules,
 * PII), and everything before the earliest point where a deny pattern or a PII detection could
 * still be starting (guard/partial.ts: a prefix of a match at the held text's end) is released at
 * once, redacted where needed. Ordinary prose leaves after a word or so; a candidate (`swo…` under
 * a rule for `swordfish`, `bob.sm…` under e-mail redaction) waits until it either matches or
 * cannot. Text older than the window (`windowChars`, default 256, at least the longest literal of
 * any pattern) is released whatever follows it, so a match split across chunks is caught up to the
 * window's length, and the held text stays bounded. A release is tried when the new text is at
 * least a quarter of what is held (and 8 characters), so each character is checked a bounded
 * number of times: linear in the answer. A block ends the stream with an in-band `guardrail_blocked` error event and no end
 * marker (the stream layer renders a thrown GatewayError that way).
 *
 * With Amazon Bedrock Guardrails on output, text is released in batches instead (a quarter window
 * each, ending at a word, once a window follows it): each released batch is one ApplyGuardrail
 * call, about (answer length / (windowChars / 4)) + 1 calls per stream per choice.
 *
 * It works on the canonical chunk stream, which chat completions, messages and responses all
 * encode from: one engine for the three. Tool-call arguments are held until their choice finishes
 * and checked whole (clients use them whole).
 */
import type { ChatCompletionChunk } from '../../apischema/openai';
import { errors } from '../errors';
import { replaceSpans } from '../redaction';
import type { PeekedStream } from '../stream';
import { type GuardAction, GuardBlocked, type GuardSet, guardBlockedError, noteRedactions } from './engine';
import { DEFAULT_WINDOW_CHARS } from './policy';

/** New characters that make a release worth trying: a check per 8 characters at most (two typical tokens) keeps the CPU per token small. */
const MIN_STEP = 8;

/** One choice's text on its way out: push what arrives, get back what is safe to release. */
export class StreamWindow {
  private held = '';
  /** The last released character: deny rules see it, so `\b` at the held text's start means what it would in the whole answer. */
  private before = '';
  /** Characters pushed since the last check. */
  private unchecked = 0;
  private readonly batch: number;
  /** A Bedrock guardrail checks what is released: release in batches, not as soon as the local rules allow. */
  private readonly batched: boolean;

  constructor(
    private readonly guard: GuardSet,
    private readonly actions: GuardAction[],
    private readonly window: number = guard.windowChars() || DEFAULT_WINDOW_CHARS,
  ) {
    this.batch = Math.max(1, Math.floor(this.window / 4));
    this.batched = guard.usesGuardrail('output');
  }

  /** Add text; returns the (redacted) text now safe to release, often ''. Throws GuardBlocked. */
  push(text: string): Promise<string> {
    this.held += text;
    this.unchecked += text.length;
    const full = this.held.length >= this.window + this.batch;
    if (this.batched ? !full : !full && (this.unchecked < MIN_STEP || this.unchecked * 4 < this.held.length)) return Promise.resolve('');
    return this.release(false);
  }

  /** The stream's end: check and release everything held. */
  end(): Promise<string> {
    return this.release(true);
  }

  private async release(final: boolean): Promise<string> {
    this.unchecked = 0;
    const result = this.guard.scan(this.held, 'output', { before: this.before });
    if (result.blocked) throw result.blocked;
    const cut = final ? this.held.length : this.batched ? this.batchCut() : this.earlyCut();
    // Never cut through a redaction: the span goes out whole with a later release.
    let at = cut;
    for (const s of result.spans) if (s.start < at && s.end > at) at = s.start;
    const spans = result.spans.filter((s) => s.end <= at);
    noteRedactions(spans, 'output', this.actions);
    const out = replaceSpans(this.held.slice(0, at), spans);
    if (at > 0) this.before = this.held[at - 1];
    this.held = this.held.slice(at);
    if (!out || !this.batched) return out;
    try {
      const [checked] = await this.guard.checkGuardrails([out], 'output', this.actions);
      return checked;
    } catch (err) {
      if (err instanceof GuardBlocked) throw err;
      // The guardrail could not check this text: it is not released unchecked.
      throw errors.unavailable('The gateway could not run its guardrail check on this answer.', 1, 'guardrail_unavailable');
    }
  }

  /** As soon as it is safe: before the earliest possible match in progress, and at least all but the window. */
  private earlyCut(): number {
    return Math.max(this.guard.pendingStart(this.held, this.window), this.held.length - this.window);
  }

  /**
   * A batch for a guardrail: all but the window, up to a word's end when one is near, so a checker
   * that sees one batch at a time is not handed half a word or half an address. A word longer than
   * what is held before the cut waits for one more batch (at most a window's worth, then it is cut
   * anyway: the held text stays bounded).
   */
  private batchCut(): number {
    const cut = this.held.length - this.window;
    let p = cut - 1;
    while (p >= 0 && !/\s/.test(this.held[p])) p--;
    if (p >= 0) return p + 1;
    return this.held.length < 2 * this.window + this.batch ? 0 : cut;
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
