/**
 * The guard's checks on one piece of text, for every policy that applies to a request (the route's
 * and the key's: both apply). Deny patterns, the input allow-list and PII detection run on the
 * text as received; a block names the policy and the rule, never the text; a redaction replaces
 * the detected spans with `[REDACTED:type]`. Amazon Bedrock Guardrails, when a policy names one,
 * run after the local checks through the GuardrailService port.
 */
import { GatewayError } from '../errors';
import { type PiiSpan, type PiiType, detectPii, replaceSpans } from '../redaction';
import type { BedrockGuardrailConfig, CompiledPolicy, CompiledSide, GuardRole, GuardWhere } from './policy';

/** One thing the guard did to a request, as the log record's `guard` field lists it. */
export interface GuardAction {
  readonly policy: string;
  readonly rule: string;
  readonly where: GuardWhere;
  readonly action: 'block' | 'redact';
}

export class GuardBlocked extends Error {
  constructor(
    readonly policy: string,
    readonly rule: string,
    readonly where: GuardWhere,
  ) {
    super(`blocked by guard policy '${policy}', rule '${rule}' (${where})`);
    this.name = 'GuardBlocked';
  }
}

/** The client's error: 400 guardrail_blocked, naming policy and rule, never the matched text. */
export function guardBlockedError(b: GuardBlocked): GatewayError {
  const what = b.where === 'input' ? 'The request' : 'The answer';
  return new GatewayError({
    status: 400,
    type: 'invalid_request_error',
    code: 'guardrail_blocked',
    message: `${what} was blocked by the gateway's guard: policy '${b.policy}', rule '${b.rule}'.`,
  });
}

export type GuardrailSource = 'INPUT' | 'OUTPUT';

/** What Amazon Bedrock Guardrails decided on some texts. */
export type GuardrailOutcome = { readonly action: 'none' } | { readonly action: 'block' } | { readonly action: 'redact'; readonly texts: readonly string[] };

/** ApplyGuardrail, behind a port so the core does not import the AWS SDK. */
export interface GuardrailService {
  apply(guardrail: BedrockGuardrailConfig, source: GuardrailSource, texts: readonly string[]): Promise<GuardrailOutcome>;
}

/** A span to redact, and the policy whose PII rule asked for it. */
export interface OwnedSpan extends PiiSpan {
  readonly policy: string;
}

export type ScanResult = { readonly blocked: GuardBlocked } | { readonly blocked?: undefined; readonly spans: readonly OwnedSpan[] };

/** The policies that apply to one request, on one side. */
export class GuardSet {
  private readonly sides: { input: { policy: string; side: CompiledSide }[]; output: { policy: string; side: CompiledSide }[] };
  private readonly piiTypes: Record<GuardWhere, PiiType[]>;

  constructor(
    readonly policies: readonly CompiledPolicy[],
    private readonly guardrails?: GuardrailService,
  ) {
    const sides = (where: GuardWhere) => policies.flatMap((p) => (p[where] ? [{ policy: p.name, side: p[where] as CompiledSide }] : []));
    this.sides = { input: sides('input'), output: sides('output') };
    const types = (where: GuardWhere) => [...new Set(this.sides[where].flatMap((s) => s.side.pii?.types ?? []))];
    this.piiTypes = { input: types('input'), output: types('output') };
  }

  /** Whether anything checks this side (so a request with no guard pays nothing). */
  active(where: GuardWhere): boolean {
    return this.sides[where].length > 0 || this.policies.some((p) => p.bedrock?.on.includes(where));
  }

  /** Whether an Amazon Bedrock guardrail checks this side. */
  usesGuardrail(where: GuardWhere): boolean {
    return this.guardrails !== undefined && this.policies.some((p) => p.bedrock?.on.includes(where));
  }

  /** Input roles checked: the union of the policies' roles. */
  inputRoles(): ReadonlySet<GuardRole> {
    const roles = new Set<GuardRole>(this.sides.input.flatMap((s) => [...s.side.roles]));
    // A policy with only a Bedrock guardrail checks the default role.
    return roles.size ? roles : new Set<GuardRole>(['user']);
  }

  /** Text held back on output streams: the largest of the policies' windows. */
  windowChars(): number {
    return Math.max(0, ...this.sides.output.map((s) => s.side.windowChars));
  }

  /**
   * Deny, allow and PII on one text: what blocks it, or the spans to redact. Linear in the text:
   * each policy's deny rules are one pass, its allow rules another. `before` is text just before
   * this one (a stream's last released character), seen by deny rules only, so `\b` and `^` at
   * the text's start mean what they would in the whole answer.
   */
  scan(text: string, where: GuardWhere, opts: { allowList?: boolean; before?: string } = {}): ScanResult {
    const denyText = opts.before ? opts.before + text : text;
    for (const { policy, side } of this.sides[where]) {
      const denied = side.deny.firstMatch(denyText);
      if (denied) return { blocked: new GuardBlocked(policy, denied.id, where) };
      if (where === 'input' && opts.allowList !== false && side.allow.size && !side.allow.firstMatch(text))
        return { blocked: new GuardBlocked(policy, 'allow', where) };
    }
    const types = this.piiTypes[where];
    if (!types.length) return { spans: [] };
    const spans: OwnedSpan[] = [];
    for (const span of detectPii(text, types)) {
      // The first policy that blocks this type wins; else the first that redacts it owns the span.
      const sides = this.sides[where].filter((s) => s.side.pii?.types.includes(span.type));
      const blocking = sides.find((s) => s.side.pii?.action === 'block');
      if (blocking) return { blocked: new GuardBlocked(blocking.policy, `pii:${span.type}`, where) };
      spans.push({ ...span, policy: sides[0].policy });
    }
    return { spans };
  }

  /**
   * Output streams: where in `text` (the held text) a deny match or a PII detection may still be in
   * progress, so everything before it is safe to release once checked. Looks back at most `limit`
   * characters (the window: older text is released anyway); a side without a prefix form answers
   * the look-back's start.
   */
  pendingStart(text: string, limit: number): number {
    const from = Math.max(0, text.length - limit);
    let start = text.length;
    for (const { side } of this.sides.output) {
      if (!side.pending) return from;
      // The earliest position from which the rest is a prefix of a match (partial.ts).
      for (let s = from; s < start; s++)
        if (side.pending.testExact(text.slice(s))) {
          start = s;
          break;
        }
    }
    return start;
  }

  /** The local checks on one text: its redacted form; throws GuardBlocked. Records what it did in `actions`. */
  checkLocal(text: string, where: GuardWhere, actions: GuardAction[]): string {
    const result = this.scan(text, where);
    if (result.blocked) throw block(result.blocked, actions);
    noteRedactions(result.spans, where, actions);
    return replaceSpans(text, result.spans);
  }

  /** Bedrock Guardrails on some texts (one ApplyGuardrail call per policy that has one on this side). */
  async checkGuardrails(texts: readonly string[], where: GuardWhere, actions: GuardAction[]): Promise<readonly string[]> {
    let out = texts;
    for (const p of this.policies) {
      if (!p.bedrock?.on.includes(where) || !this.guardrails || out.every((t) => !t)) continue;
      const outcome = await this.guardrails.apply(p.bedrock, where === 'input' ? 'INPUT' : 'OUTPUT', out);
      const rule = `bedrock:${p.bedrock.id}`;
      if (outcome.action === 'block') throw block(new GuardBlocked(p.name, rule, where), actions);
      if (outcome.action === 'redact') {
        out = outcome.texts;
        addAction(actions, { policy: p.name, rule, where, action: 'redact' });
      }
    }
    return out;
  }

  /** Local checks on each text, then Bedrock Guardrails on all of them together. */
  async check(texts: readonly string[], where: GuardWhere, actions: GuardAction[]): Promise<readonly string[]> {
    const local = texts.map((t) => this.checkLocal(t, where, actions));
    return this.checkGuardrails(local, where, actions);
  }
}

function addAction(actions: GuardAction[], a: GuardAction): void {
  if (!actions.some((x) => x.policy === a.policy && x.rule === a.rule && x.where === a.where && x.action === a.action)) actions.push(a);
}

function block(b: GuardBlocked, actions: GuardAction[]): GuardBlocked {
  addAction(actions, { policy: b.policy, rule: b.rule, where: b.where, action: 'block' });
  return b;
}

export function noteRedactions(spans: readonly OwnedSpan[], where: GuardWhere, actions: GuardAction[]): void {
  for (const s of spans) addAction(actions, { policy: s.policy, rule: `pii:${s.type}`, where, action: 'redact' });
}

/** The policies for a request: the route's (or the settings' default) and the key's, each once, 'none' skipped. */
export function policiesFor(all: ReadonlyMap<string, CompiledPolicy>, names: readonly (string | undefined)[]): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  for (const name of names) {
    const p = name ? all.get(name) : undefined;
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}
