/**
 * Prompt guard policies compiled for the request path (ARCHITECTURE §14): each side's rules as one
 * RE2 set, its PII rule, roles and stream window, and what a match still in progress looks like
 * (partial.ts). The config shape and its validation are config.ts. PII detection is the audit log's
 * redaction engine (../redaction.ts).
 */
import type { RE2JS, RE2Set } from 're2js';
import { PII_TYPES, type PiiType } from '../pii-types';
import {
  type BedrockGuardrailConfig,
  DEFAULT_WINDOW_CHARS,
  GUARD_ROLES,
  type GuardPatternRule,
  type GuardPolicyConfig,
  type GuardRole,
  type GuardSideConfig,
  type GuardWhere,
  compileRuleSet,
  longestLiteral,
  re2,
} from './config';
import { pendingPattern } from './partial';

export * from './config';

export interface CompiledRule {
  readonly policy: string;
  readonly id: string;
}

/**
 * A list of pattern rules as one RE2 set: which of them match a text is one linear pass over it,
 * however many rules there are (not one pass per rule).
 */
export class RuleSet {
  private constructor(
    readonly rules: readonly CompiledRule[],
    private readonly set: RE2Set | undefined,
  ) {}

  static compile(policy: string, rules: readonly GuardPatternRule[] | undefined): RuleSet {
    if (!rules?.length) return new RuleSet([], undefined);
    return new RuleSet(
      rules.map((r) => ({ policy, id: r.id })),
      compileRuleSet(rules),
    );
  }

  get size(): number {
    return this.rules.length;
  }

  /** The first rule (in config order) that matches somewhere in `text`. */
  firstMatch(text: string): CompiledRule | undefined {
    if (!this.set) return undefined;
    const hits = this.set.match(text);
    return hits.length ? this.rules[Math.min(...hits)] : undefined;
  }
}

export interface CompiledSide {
  readonly deny: RuleSet;
  readonly allow: RuleSet;
  readonly pii?: { readonly action: 'block' | 'redact'; readonly types: readonly PiiType[] };
  readonly roles: ReadonlySet<GuardRole>;
  readonly windowChars: number;
  /**
   * Output streams: what a deny match or a PII detection still in progress at the end of the held
   * text may look like so far (partial.ts); absent when a rule has no prefix form, and the side
   * then holds its whole window.
   */
  readonly pending?: RE2JS;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly input?: CompiledSide;
  readonly output?: CompiledSide;
  readonly bedrock?: BedrockGuardrailConfig & { readonly on: readonly GuardWhere[] };
}

function compileSide(policy: string, side: GuardSideConfig | undefined, where: GuardWhere): CompiledSide | undefined {
  if (!side) return undefined;
  const literal = Math.max(0, ...[...(side.deny ?? []), ...(side.allow ?? [])].map((r) => longestLiteral(r.pattern)));
  const pii = side.pii ? { action: side.pii.action, types: side.pii.types ?? PII_TYPES } : undefined;
  return {
    deny: RuleSet.compile(policy, side.deny),
    allow: RuleSet.compile(policy, side.allow),
    pii,
    roles: new Set(side.roles === 'all' ? GUARD_ROLES : (side.roles ?? ['user'])),
    windowChars: Math.max(side.windowChars ?? DEFAULT_WINDOW_CHARS, literal),
    pending: where === 'output' ? compilePending(side.deny ?? [], pii?.types ?? []) : undefined,
  };
}

function compilePending(deny: readonly GuardPatternRule[], pii: readonly PiiType[]): RE2JS | undefined {
  const pattern = pendingPattern(deny, pii);
  if (pattern === undefined) return undefined;
  try {
    return re2().compile(pattern);
  } catch {
    return undefined;
  }
}

/** Compile validated policies (config validation has already rejected bad patterns). */
export function compilePolicies(guards: Readonly<Record<string, GuardPolicyConfig>> | undefined): Map<string, CompiledPolicy> {
  const out = new Map<string, CompiledPolicy>();
  for (const [name, p] of Object.entries(guards ?? {})) {
    out.set(name, {
      name,
      input: compileSide(name, p.input, 'input'),
      output: compileSide(name, p.output, 'output'),
      bedrock: p.bedrockGuardrail ? { ...p.bedrockGuardrail, on: p.bedrockGuardrail.on ?? ['input', 'output'] } : undefined,
    });
  }
  return out;
}
