/**
 * Prompt guard policies' config (ARCHITECTURE §14): their shape and start-up validation, part of
 * the routing config's schema (the constructs validate it at synth, so it imports nothing of the
 * runtime). Operator patterns run against attacker-chosen text, so they are compiled by re2js, a
 * linear-time (RE2) engine: a pattern it cannot compile (backreferences, lookaround) is rejected at
 * start-up with a message naming it, and no input makes a check more than linear in its size.
 */
import type { RE2JS, RE2Set } from 're2js';
import { isObject } from '../is-object';
import { PII_TYPES, type PiiType } from '../pii-types';

export type GuardWhere = 'input' | 'output';
export type GuardRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';
export const GUARD_ROLES: readonly GuardRole[] = ['system', 'developer', 'user', 'assistant', 'tool'];

/** A deny or allow pattern: RE2 syntax; `flags` any of i (case-insensitive), s (dot matches newline), m (multi-line). */
export interface GuardPatternRule {
  readonly id: string;
  readonly pattern: string;
  readonly flags?: string;
}

export interface GuardPiiRule {
  readonly action: 'block' | 'redact';
  /** @default every type */
  readonly types?: readonly PiiType[];
}

export interface GuardSideConfig {
  /** Text matching any of these is blocked. */
  readonly deny?: readonly GuardPatternRule[];
  /** Input only: if any, the checked text must match one of them. */
  readonly allow?: readonly GuardPatternRule[];
  readonly pii?: GuardPiiRule;
  /** Input only: the message roles checked. @default ['user'] */
  readonly roles?: readonly GuardRole[] | 'all';
  /** Output streams: text held back so a match split across chunks is still caught. @default 256 */
  readonly windowChars?: number;
}

export interface BedrockGuardrailConfig {
  /** Guardrail id (or ARN). */
  readonly id: string;
  readonly version: string;
  /** @default the gateway's region */
  readonly region?: string;
  /** @default ['input', 'output'] */
  readonly on?: readonly GuardWhere[];
}

export interface GuardPolicyConfig {
  readonly input?: GuardSideConfig;
  readonly output?: GuardSideConfig;
  readonly bedrockGuardrail?: BedrockGuardrailConfig;
}

/** The policy name that turns guarding off for a route or key. */
export const NO_GUARD = 'none';
export const DEFAULT_WINDOW_CHARS = 256;
const MAX_WINDOW_CHARS = 65_536;
const MAX_PATTERN_LENGTH = 4096;

/** re2js is loaded only by gateways that configure patterns (it is most of a guard's code size). */
export function re2(): typeof RE2JS {
  return (require('re2js') as typeof import('re2js')).RE2JS;
}

function compilePattern(rule: GuardPatternRule): RE2JS {
  const R = re2();
  let flags = 0;
  for (const f of rule.flags ?? '') {
    if (f === 'i') flags |= R.CASE_INSENSITIVE;
    else if (f === 's') flags |= R.DOTALL;
    else if (f === 'm') flags |= R.MULTILINE;
    else throw new Error(`unknown flag '${f}' (use i, s or m)`);
  }
  return R.compile(rule.pattern, flags);
}

/** The rule as one pattern with its flags inline, to share a set (or an alternation) with other rules. */
export function inlineFlags(rule: GuardPatternRule): string {
  return rule.flags ? `(?${rule.flags}:${rule.pattern})` : `(?:${rule.pattern})`;
}

/** Rules as one RE2 set, each rule's flags inline: which of them match a text is one pass over it. */
export function compileRuleSet(rules: readonly GuardPatternRule[]): RE2Set {
  const { RE2Set } = require('re2js') as typeof import('re2js');
  const set = new RE2Set(RE2Set.UNANCHORED);
  for (const r of rules) set.add(inlineFlags(r));
  set.compile();
  return set;
}

/**
 * The longest run of literal characters in a pattern: a match of it split across two stream
 * chunks must fit in the held-back window. (Escapes of punctuation count as literals.)
 */
export function longestLiteral(pattern: string): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length && /[^A-Za-z0-9]/.test(pattern[i + 1])) {
      run++;
      i++;
    } else if (/[A-Za-z0-9 _\-:=@,'"/]/.test(c) && pattern[i + 1] !== '*' && pattern[i + 1] !== '?' && pattern[i + 1] !== '{') run++;
    else run = 0;
    best = Math.max(best, run);
  }
  return best;
}

function checkRules(v: unknown, at: string, problems: string[]): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) return void problems.push(`${at} must be a list of { "id", "pattern", "flags"? }`);
  const ids = new Set<string>();
  for (const [i, r] of v.entries()) {
    const rat = `${at}[${i}]`;
    if (!isObject(r) || typeof r.id !== 'string' || !r.id || typeof r.pattern !== 'string' || !r.pattern) {
      problems.push(`${rat} must be { "id": NAME, "pattern": RE2_PATTERN, "flags"?: "i" }`);
      continue;
    }
    if (ids.has(r.id)) problems.push(`${rat}: rule id '${r.id}' is used twice in ${at}`);
    ids.add(r.id);
    if (r.flags !== undefined && typeof r.flags !== 'string') problems.push(`${rat}.flags must be a string of i, s, m`);
    if (r.pattern.length > MAX_PATTERN_LENGTH) {
      problems.push(`${rat} ('${r.id}'): pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
      continue;
    }
    try {
      compilePattern(r as unknown as GuardPatternRule);
    } catch (err) {
      problems.push(
        `${rat} ('${r.id}'): pattern ${JSON.stringify(r.pattern)} is not supported: ${err instanceof Error ? err.message : String(err)} ` +
          '(guard patterns use RE2 syntax, which runs in linear time: no backreferences or lookaround)',
      );
    }
  }
}

function checkSide(v: unknown, at: string, where: GuardWhere, problems: string[]): void {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push(`${at} must be an object`);
  const known = where === 'input' ? ['deny', 'allow', 'pii', 'roles'] : ['deny', 'pii', 'windowChars'];
  for (const k of Object.keys(v)) if (!known.includes(k)) problems.push(`${at}.${k} is not a known ${where} guard field (${known.join(', ')})`);
  checkRules(v.deny, `${at}.deny`, problems);
  if (where === 'input') checkRules(v.allow, `${at}.allow`, problems);
  for (const list of ['deny', 'allow'] as const) {
    if (!Array.isArray(v[list]) || problems.some((p) => p.startsWith(`${at}.${list}`))) continue;
    try {
      compileRuleSet(v[list] as GuardPatternRule[]);
    } catch (err) {
      problems.push(
        `${at}.${list}: the rules together are too large to check in one pass (${err instanceof Error ? err.message : String(err)}); split them across policies`,
      );
    }
  }
  if (v.pii !== undefined) {
    const p = v.pii;
    if (!isObject(p) || (p.action !== 'block' && p.action !== 'redact')) problems.push(`${at}.pii must be { "action": "block"|"redact", "types"?: [...] }`);
    else if (p.types !== undefined && !(Array.isArray(p.types) && p.types.length > 0 && p.types.every((t) => PII_TYPES.includes(t as PiiType))))
      problems.push(`${at}.pii.types must be a non-empty list of ${PII_TYPES.join(', ')}`);
  }
  if (
    v.roles !== undefined &&
    v.roles !== 'all' &&
    !(Array.isArray(v.roles) && v.roles.length > 0 && v.roles.every((r) => GUARD_ROLES.includes(r as GuardRole)))
  )
    problems.push(`${at}.roles must be "all" or a non-empty list of ${GUARD_ROLES.join(', ')}`);
  if (v.windowChars !== undefined && !(Number.isInteger(v.windowChars) && (v.windowChars as number) >= 1 && (v.windowChars as number) <= MAX_WINDOW_CHARS))
    problems.push(`${at}.windowChars must be an integer from 1 to ${MAX_WINDOW_CHARS}`);
}

function checkBedrock(v: unknown, at: string, problems: string[]): void {
  if (v === undefined) return;
  if (!isObject(v) || typeof v.id !== 'string' || !v.id || typeof v.version !== 'string' || !v.version)
    return void problems.push(`${at} must be { "id": GUARDRAIL_ID, "version": "1"|"DRAFT", "region"?, "on"?: ["input","output"] }`);
  if (v.region !== undefined && (typeof v.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(v.region)))
    problems.push(`${at}.region must be an AWS region such as us-east-1`);
  if (v.on !== undefined && !(Array.isArray(v.on) && v.on.length > 0 && v.on.every((w) => w === 'input' || w === 'output')))
    problems.push(`${at}.on must be a non-empty list of "input", "output"`);
}

/** Validate the `guards` section; collects problems like the rest of the config. */
export function checkGuards(guards: unknown, problems: string[]): void {
  if (guards === undefined) return;
  if (!isObject(guards)) return void problems.push('guards must be an object of named policies');
  for (const [name, p] of Object.entries(guards)) {
    const at = `guards.${name}`;
    if (name === NO_GUARD) problems.push(`${at}: '${NO_GUARD}' is reserved (it turns guarding off)`);
    if (!isObject(p)) {
      problems.push(`${at} must be an object with "input", "output" and/or "bedrockGuardrail"`);
      continue;
    }
    for (const k of Object.keys(p))
      if (!['input', 'output', 'bedrockGuardrail'].includes(k)) problems.push(`${at}.${k} is not a known guard field (input, output, bedrockGuardrail)`);
    checkSide(p.input, `${at}.input`, 'input', problems);
    checkSide(p.output, `${at}.output`, 'output', problems);
    checkBedrock(p.bedrockGuardrail, `${at}.bedrockGuardrail`, problems);
  }
}

/** A route's or the settings' `guard` must name a policy (or 'none'). */
export function checkGuardReference(name: unknown, at: string, guards: unknown, problems: string[]): void {
  if (name === undefined) return;
  if (typeof name !== 'string' || !name) return void problems.push(`${at} must be the name of a policy in guards, or "${NO_GUARD}"`);
  if (name !== NO_GUARD && !(isObject(guards) && Object.hasOwn(guards, name)))
    problems.push(`${at}: guard policy '${name}' is not defined in guards (defined: ${isObject(guards) ? Object.keys(guards).join(', ') || 'none' : 'none'})`);
}
