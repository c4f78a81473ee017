/**
 * The guard on request and answer bodies in the canonical (chat completions) format, which chat
 * completions, messages and responses all translate to and from, and on embeddings inputs.
 * Input: the text of the checked roles' messages (string contents and text parts). Output: each
 * choice's text and its tool calls' arguments (checked as output text too).
 */
import type { AnthropicRequest } from '../../apischema/anthropic';
import type { ChatCompletion, ChatMessage, ChatRequest, EmbeddingsRequest } from '../../apischema/openai';
import type { NativeRequest } from '../provider';
import { type GuardAction, GuardBlocked, type GuardSet } from './engine';
import type { GuardRole } from './policy';
import { responsesSlots } from './responses-slots';

/** A place in a body holding checked text: read it, and write back its redacted form. */
export interface TextSlot {
  readonly text: string;
  write(text: string): void;
}

function messageSlots(messages: ChatMessage[], roles: ReadonlySet<GuardRole>): TextSlot[] {
  const slots: TextSlot[] = [];
  messages.forEach((m, i) => {
    if (!roles.has(m.role as GuardRole)) return;
    const content = m.content;
    if (typeof content === 'string') {
      slots.push({ text: content, write: (t) => (messages[i] = { ...messages[i], content: t }) });
    } else if (Array.isArray(content)) {
      const parts = [...content];
      messages[i] = { ...m, content: parts };
      parts.forEach((part, j) => {
        if (part && part.type === 'text' && typeof (part as { text?: unknown }).text === 'string')
          slots.push({ text: (part as { text: string }).text, write: (t) => (parts[j] = { ...part, type: 'text', text: t }) });
      });
    }
  });
  return slots;
}

async function checkSlots(slots: readonly TextSlot[], guard: GuardSet, where: 'input' | 'output', actions: GuardAction[]): Promise<void> {
  if (!slots.length) return;
  const out = await guard.check(
    slots.map((s) => s.text),
    where,
    actions,
  );
  slots.forEach((s, i) => {
    if (out[i] !== s.text) s.write(out[i]);
  });
}

/** The request the upstream receives: checked roles' text redacted; throws GuardBlocked. */
export async function guardChatInput(body: ChatRequest, guard: GuardSet, actions: GuardAction[]): Promise<ChatRequest> {
  if (!guard.active('input')) return body;
  const messages = [...body.messages];
  await checkSlots(messageSlots(messages, guard.inputRoles()), guard, 'input', actions);
  return { ...body, messages };
}

/** Embeddings inputs are the user's text; token-id inputs carry none to check. */
export async function guardEmbeddingsInput(body: EmbeddingsRequest, guard: GuardSet, actions: GuardAction[]): Promise<EmbeddingsRequest> {
  if (!guard.active('input')) return body;
  const input = body.input as unknown;
  if (typeof input === 'string') {
    const [t] = await guard.check([input], 'input', actions);
    return { ...body, input: t };
  }
  if (Array.isArray(input) && input.every((x) => typeof x === 'string')) {
    return { ...body, input: [...(await guard.check(input as string[], 'input', actions))] };
  }
  return body;
}

/**
 * A whole answer: each choice's text and tool-call arguments checked. A blocked choice is withheld
 * (no content, no tool calls, `finish_reason: "content_filter"`, which messages renders as
 * `stop_reason: "refusal"` and responses as `status: "incomplete"`); redacted text replaces the original.
 * An answer the checks leave as it was is returned itself, so a native answer behind it (the
 * upstream's own Messages or Responses answer, looked up by the object) still reaches the client.
 */
export async function guardChatOutput(res: ChatCompletion, guard: GuardSet, actions: GuardAction[]): Promise<ChatCompletion> {
  if (!guard.active('output')) return res;
  let changed = false;
  const choices = await Promise.all(
    res.choices.map(async (choice) => {
      const message = { ...choice.message };
      const toolCalls = message.tool_calls?.map((tc) => ({ ...tc, function: { ...tc.function } }));
      if (toolCalls) message.tool_calls = toolCalls;
      const slots: TextSlot[] = [];
      // checkSlots writes only what a check changed.
      const write = (set: (t: string) => void) => (t: string) => {
        set(t);
        changed = true;
      };
      if (typeof message.content === 'string' && message.content) slots.push({ text: message.content, write: write((t) => (message.content = t)) });
      for (const tc of toolCalls ?? []) slots.push({ text: tc.function.arguments, write: write((t) => (tc.function.arguments = t)) });
      try {
        await checkSlots(slots, guard, 'output', actions);
      } catch (err) {
        if (!(err instanceof GuardBlocked)) throw err;
        changed = true;
        // Withheld whole: text, tool calls and any reasoning that came with them.
        return { ...choice, message: { role: 'assistant' as const, content: null }, finish_reason: 'content_filter' as const };
      }
      return { ...choice, message };
    }),
  );
  return changed ? { ...res, choices } : res;
}

/** Slots of a native Anthropic body: the system prompt and text blocks of the checked roles. */
function anthropicSlots(native: AnthropicRequest, roles: ReadonlySet<GuardRole>): { body: AnthropicRequest; slots: TextSlot[] } {
  const body: AnthropicRequest = { ...native, messages: [...native.messages] };
  const slots: TextSlot[] = [];
  if (roles.has('system') && body.system !== undefined) {
    if (typeof body.system === 'string') slots.push({ text: body.system, write: (t) => (body.system = t) });
    else {
      const blocks = [...body.system];
      body.system = blocks;
      blocks.forEach((b, j) => {
        if (typeof b.text === 'string') slots.push({ text: b.text, write: (t) => (blocks[j] = { ...b, text: t }) });
      });
    }
  }
  body.messages.forEach((m, i) => {
    if (!roles.has(m.role as GuardRole)) return;
    if (typeof m.content === 'string') slots.push({ text: m.content, write: (t) => (body.messages[i] = { ...body.messages[i], content: t }) });
    else if (Array.isArray(m.content)) {
      const blocks = [...m.content];
      body.messages[i] = { ...m, content: blocks };
      blocks.forEach((b, j) => {
        const text = (b as { type?: unknown; text?: unknown }).type === 'text' ? (b as { text?: unknown }).text : undefined;
        if (typeof text === 'string') slots.push({ text, write: (t) => (blocks[j] = { ...b, text: t } as typeof b) });
      });
    }
  });
  return { body, slots };
}

/**
 * /v1/messages and /v1/responses: the canonical request is checked like chat completions'; targets
 * that speak the client's format receive its native body instead, so when the guard changed
 * anything that body is checked and redacted the same way (a native body left as it was would
 * reach the upstream unredacted).
 */
export async function guardMessagesInput(
  body: ChatRequest,
  native: NativeRequest | undefined,
  guard: GuardSet,
  actions: GuardAction[],
): Promise<{ request: ChatRequest; native?: NativeRequest }> {
  const out = await guardChatInput(body, guard, actions);
  if (out === body || !native || actions.every((a) => a.action !== 'redact' || a.where !== 'input')) return { request: out, native };
  if (native.format === 'responses') {
    const { body: redacted, slots } = responsesSlots(native.body, guard.inputRoles());
    await checkSlots(slots, guard, 'input', actions);
    return { request: out, native: { ...native, body: redacted } };
  }
  const { body: redacted, slots } = anthropicSlots(native.body, guard.inputRoles());
  await checkSlots(slots, guard, 'input', actions);
  return { request: out, native: { ...native, body: redacted } };
}
