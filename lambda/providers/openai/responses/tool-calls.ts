/**
 * The built-in tool calls of a Responses answer that the provider bills per call, counted from its
 * output items as the canonical usage's `server_tool_use` (`<kind>_requests`, the kinds of
 * core/pricing.ts SERVER_TOOLS). The Responses usage reports tokens only, so the items are the count:
 * - `web_search_call`: one call per item whose action is a `search` (OpenAI's web search guide:
 *   "Search actions incur a tool call cost"; `open_page` and `find_in_page` do not). An item with
 *   no action (`web_search_preview` answers carry none) is a search.
 * - `file_search_call`: one call per item.
 * An item whose status is `failed` is not counted: xAI bills successful calls only, and OpenAI lists
 * no fee for a call that failed. Code interpreter calls are not counted: OpenAI bills a container
 * session, not a call (see SERVER_TOOLS).
 */
import type { ServerToolUse } from '../../../apischema/openai';
import type { ResponseObject } from '../../../apischema/responses';

type Item = { readonly type?: unknown; readonly status?: unknown; readonly action?: { readonly type?: unknown } | null };
type Tool = { readonly type?: unknown };

/**
 * The kind a web search call of this answer is billed as. OpenAI bills `web_search_preview` on a
 * non-reasoning model at its own rate; on a reasoning model, and the GA `web_search` always, at the
 * web search rate. The tools are the answer's (OpenAI echoes the request's), else the request's; a
 * reasoning model answers with a `reasoning.effort`, a non-reasoning one with none.
 */
export function webSearchKindOf(
  res: Partial<Pick<ResponseObject, 'tools' | 'reasoning'>> | undefined,
  requestTools?: unknown,
): 'web_search' | 'web_search_preview' {
  const echoed = Array.isArray(res?.tools) && res.tools.length ? (res.tools as Tool[]) : undefined;
  const tools = echoed ?? (Array.isArray(requestTools) ? (requestTools as Tool[]) : []);
  const types = tools.map((t) => (t && typeof t.type === 'string' ? t.type : ''));
  const preview = types.some((t) => t.startsWith('web_search_preview'));
  const ga = types.some((t) => t.startsWith('web_search') && !t.startsWith('web_search_preview'));
  const reasoning = typeof res?.reasoning?.effort === 'string' && res.reasoning.effort !== '';
  return preview && !ga && !reasoning ? 'web_search_preview' : 'web_search';
}

/** The server tool kind one output item is billed as, if any. */
export function billedKindOf(
  item: unknown,
  webSearchKind: 'web_search' | 'web_search_preview',
): 'web_search' | 'web_search_preview' | 'file_search' | undefined {
  const i = item as Item | null | undefined;
  if (!i || typeof i !== 'object' || i.status === 'failed') return undefined;
  if (i.type === 'web_search_call') {
    const action = i.action && typeof i.action === 'object' ? i.action.type : undefined;
    return action === undefined || action === 'search' ? webSearchKind : undefined;
  }
  if (i.type === 'file_search_call') return 'file_search';
  return undefined;
}

/** A running count of billed calls, by kind. */
export class ToolCallTally {
  private readonly counts = new Map<string, number>();

  /** Counts `item` if it is a billed call; true when it was. */
  add(item: unknown, webSearchKind: 'web_search' | 'web_search_preview'): boolean {
    const kind = billedKindOf(item, webSearchKind);
    if (!kind) return false;
    const key = `${kind}_requests`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return true;
  }

  /** The counts so far, or undefined when there were none. */
  use(): ServerToolUse | undefined {
    return this.counts.size ? Object.fromEntries(this.counts) : undefined;
  }
}

/** The billed server tool calls of a whole answer's output. */
export function serverToolUseOf(output: readonly unknown[] | undefined, webSearchKind: 'web_search' | 'web_search_preview'): ServerToolUse | undefined {
  const tally = new ToolCallTally();
  for (const item of output ?? []) tally.add(item, webSearchKind);
  return tally.use();
}

/** The larger count of each kind: a final response's output and the items a stream delivered may differ. */
export function maxToolUse(a: ServerToolUse | undefined, b: ServerToolUse | undefined): ServerToolUse | undefined {
  if (!a || !b) return a ?? b;
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}
