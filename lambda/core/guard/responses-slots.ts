/**
 * The checked text of a native /v1/responses body (sent as is to the targets that speak the
 * Responses format), so an input redaction reaches it as it reaches the canonical request:
 * `instructions` (the system role), message items by their role, and function_call_output items
 * (the tool role); text given as a string or as input_text / output_text parts.
 */
import type { InputItem, ResponsesRequest } from '../../apischema/responses';
import type { TextSlot } from './apply';
import type { GuardRole } from './policy';

type Part = { type?: unknown; text?: unknown };

/** Slots for a content list (a copy is put in place through `replace`, so the client's own objects stay as they were). */
function partSlots(parts: readonly unknown[], replace: (parts: unknown[]) => void, slots: TextSlot[]): void {
  const copy = [...parts];
  replace(copy);
  copy.forEach((p, j) => {
    const part = p as Part;
    if ((part?.type === 'input_text' || part?.type === 'output_text') && typeof part.text === 'string')
      slots.push({ text: part.text, write: (t) => (copy[j] = { ...part, text: t }) });
  });
}

export function responsesSlots(native: ResponsesRequest, roles: ReadonlySet<GuardRole>): { body: ResponsesRequest; slots: TextSlot[] } {
  const body: ResponsesRequest = { ...native };
  const slots: TextSlot[] = [];
  if (roles.has('system') && typeof body.instructions === 'string') slots.push({ text: body.instructions, write: (t) => (body.instructions = t) });
  if (typeof body.input === 'string') {
    if (roles.has('user')) slots.push({ text: body.input, write: (t) => (body.input = t) });
    return { body, slots };
  }
  if (!Array.isArray(body.input)) return { body, slots };
  const items: InputItem[] = [...body.input];
  body.input = items;
  items.forEach((item, i) => {
    if (item.type === 'function_call_output') {
      if (!roles.has('tool')) return;
      if (typeof item.output === 'string') slots.push({ text: item.output, write: (t) => (items[i] = { ...item, output: t }) });
      else if (Array.isArray(item.output)) partSlots(item.output, (c) => (items[i] = { ...item, output: c as typeof item.output }), slots);
      return;
    }
    if (item.type !== undefined && item.type !== 'message') return;
    const m = item as Extract<InputItem, { role: string }>;
    if (!roles.has(m.role as GuardRole)) return;
    if (typeof m.content === 'string') slots.push({ text: m.content, write: (t) => (items[i] = { ...m, content: t }) });
    else if (Array.isArray(m.content)) partSlots(m.content, (c) => (items[i] = { ...m, content: c as typeof m.content }), slots);
  });
  return { body, slots };
}
