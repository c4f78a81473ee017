/**
 * A value that satisfies a JSON Schema, for the mock provider's structured answers (response_format
 * json_schema) and tool-call arguments, so clients that parse and validate them (the Vercel AI
 * SDK's generateObject, LangChain's withStructuredOutput, zod) accept the mock's answer.
 *
 * It covers what structured-output schemas use: type (or a list of types), const, enum, properties,
 * required, additionalProperties, items / prefixItems, min/max items, lengths and bounds, string
 * formats (date-time, date, time, email, uri, uuid), anyOf / oneOf (the first branch), allOf
 * (merged), and local $ref (#/$defs/…, #/definitions/…). It does not solve `pattern` or `not`.
 *
 * Work is bounded whatever the schema: at most MAX_VALUES values are made (a $ref graph can fan out
 * exponentially), optional properties stop at MAX_DEPTH and everything at MAX_NESTING (a schema may
 * require itself), and arrays hold at most MAX_ITEMS items.
 * Past a bound the value is the smallest of its type, which may no longer satisfy the schema.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

const MAX_VALUES = 2_000;
const MAX_DEPTH = 8;
/** Nesting past which even required values are the smallest of their type (a schema may require itself). */
const MAX_NESTING = 64;
const MAX_ITEMS = 16;
const MAX_STRING = 1_000;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const FORMATTED: Record<string, string> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00',
  email: 'mock@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
};

/** Makes values for one schema document (its $defs resolve against `root`). */
class ValueMaker {
  private made = 0;

  constructor(
    private readonly root: Schema,
    /** What a free-text string says (the user's words, so answers read as answers to them). */
    private readonly text: string,
  ) {}

  value(schema: unknown, depth: number): Json {
    if (schema === true || !isObject(schema)) return this.text;
    const s = this.resolve(schema);
    if (++this.made > MAX_VALUES || depth > MAX_NESTING) return minimal(s);
    if ('const' in s) return s.const as Json;
    if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0] as Json;
    const branch = (Array.isArray(s.anyOf) && s.anyOf[0]) || (Array.isArray(s.oneOf) && s.oneOf[0]);
    if (branch) return this.value({ ...without(s, 'anyOf', 'oneOf'), ...this.resolve(branch) }, depth + 1);
    if (Array.isArray(s.allOf) && s.allOf.length > 0)
      return this.value(
        mergeAll(
          without(s, 'allOf'),
          s.allOf.map((b) => this.resolve(b)),
        ),
        depth + 1,
      );
    switch (typeOf(s)) {
      case 'null':
        return null;
      case 'boolean':
        return true;
      case 'integer':
        return this.number(s, true);
      case 'number':
        return this.number(s, false);
      case 'array':
        return this.array(s, depth);
      case 'object':
        return this.object(s, depth);
      default:
        return this.string(s);
    }
  }

  private spent(): boolean {
    return this.made >= MAX_VALUES;
  }

  /** A local $ref (#/…) followed, up to a chain of 32; anything else is taken as any value. */
  private resolve(schema: unknown): Schema {
    let s: unknown = schema;
    for (let hops = 0; isObject(s) && typeof s.$ref === 'string' && hops < 32; hops++) {
      const target = pointer(this.root, s.$ref);
      if (!isObject(target)) return {};
      s = { ...without(s, '$ref'), ...target };
    }
    return isObject(s) ? s : {};
  }

  private string(s: Schema): string {
    const format = typeof s.format === 'string' ? FORMATTED[s.format] : undefined;
    let out = format ?? this.text;
    const min = Math.min(num(s.minLength) ?? 0, MAX_STRING);
    const max = num(s.maxLength);
    if (out.length < min) out = out.padEnd(min, '.');
    if (max !== undefined && out.length > max) out = out.slice(0, Math.max(max, 0));
    return out;
  }

  /** The lowest number the bounds allow (or 1 when unbounded below), moved up to a multipleOf. */
  private number(s: Schema, integer: boolean): number {
    const [min, exMin, max, exMax] = [num(s.minimum), num(s.exclusiveMinimum), num(s.maximum), num(s.exclusiveMaximum)];
    const high = max ?? exMax;
    let n: number;
    if (min !== undefined) n = integer ? Math.ceil(min) : min;
    else if (exMin !== undefined) n = integer ? Math.floor(exMin) + 1 : high !== undefined ? (exMin + high) / 2 : exMin + 1;
    else if (max !== undefined) n = Math.min(1, integer ? Math.floor(max) : max);
    else if (exMax !== undefined) n = Math.min(1, integer ? Math.ceil(exMax) - 1 : exMax - 1);
    else n = 1;
    const step = num(s.multipleOf);
    if (step && step > 0) n = Math.ceil(n / step) * step;
    return n;
  }

  private array(s: Schema, depth: number): Json[] {
    const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
    const min = Math.min(num(s.minItems) ?? 0, MAX_ITEMS);
    const max = num(s.maxItems) ?? MAX_ITEMS;
    // One item shows the shape; more only when minItems asks (and never past maxItems).
    const count = Math.min(Math.max(min, prefix.length, depth < MAX_DEPTH && !this.spent() ? 1 : 0), max, MAX_ITEMS);
    const out: Json[] = [];
    for (let i = 0; i < count; i++) {
      const item = i < prefix.length ? prefix[i] : s.items;
      if (item === false) break;
      out.push(this.spent() ? null : this.value(item ?? {}, depth + 1));
    }
    return out;
  }

  private object(s: Schema, depth: number): { [key: string]: Json } {
    const props = isObject(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
    const out: { [key: string]: Json } = {};
    for (const [name, prop] of Object.entries(props)) {
      const wanted = required.has(name) || (depth < MAX_DEPTH && !this.spent());
      if (wanted) out[name] = this.spent() ? minimal(this.resolve(prop)) : this.value(prop, depth + 1);
    }
    for (const name of required) if (!(name in out)) out[name] = this.text;
    // A schema that names no property and allows any: the answer in one field, as the mock's tool
    // calls always had. (A map, whose additionalProperties is a schema, stays empty.)
    const open = s.additionalProperties === undefined || s.additionalProperties === true;
    if (Object.keys(props).length === 0 && required.size === 0 && open && s.propertyNames === undefined) out.input = this.text;
    return out;
  }
}

function typeOf(s: Schema): string {
  const t = Array.isArray(s.type) ? (s.type.find((x) => x !== 'null') ?? s.type[0]) : s.type;
  if (typeof t === 'string') return t;
  if (isObject(s.properties) || s.required !== undefined || s.additionalProperties !== undefined) return 'object';
  if (s.items !== undefined || s.prefixItems !== undefined) return 'array';
  return 'string';
}

/** The smallest value of a schema's type (when the budget is spent). */
function minimal(s: Schema): Json {
  if ('const' in s) return s.const as Json;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0] as Json;
  switch (typeOf(s)) {
    case 'null':
      return null;
    case 'boolean':
      return false;
    case 'integer':
    case 'number':
      return num(s.minimum) ?? 0;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '';
  }
}

function without(s: Schema, ...keys: string[]): Schema {
  const out = { ...s };
  for (const k of keys) delete out[k];
  return out;
}

/** allOf as one schema: properties and required lists joined, other keywords from the last branch that has them. */
function mergeAll(base: Schema, branches: Schema[]): Schema {
  const merged: Schema = { ...base };
  for (const b of branches) {
    const properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...(isObject(b.properties) ? b.properties : {}) };
    const required = [...(Array.isArray(merged.required) ? merged.required : []), ...(Array.isArray(b.required) ? b.required : [])];
    Object.assign(merged, b, { properties, required });
  }
  return merged;
}

/** A JSON pointer within the document (`#/$defs/Name`); undefined for anything not local. */
function pointer(root: Schema, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** A value satisfying `schema`, whose free-text strings say `text`. */
export function valueForSchema(schema: unknown, text: string): Json {
  return new ValueMaker(isObject(schema) ? schema : {}, text).value(schema, 0);
}
