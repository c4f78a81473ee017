/**
 * The mock's structured answers: a value the schema accepts, checked with zod (the schema is the
 * JSON Schema zod itself emits, so zod's parse is the judge), and bounded work for any schema.
 */
import { z } from 'zod';
import { valueForSchema } from '../../../lambda/providers/mock/schema-value';

const accepts = (schema: z.ZodType) => {
  const value = valueForSchema(z.toJSONSchema(schema), 'words');
  expect(schema.safeParse(value).error).toBeUndefined();
  return value;
};

test('what structured-output schemas use is satisfied: bounds, enums, formats, nullable, nested arrays and objects', () => {
  accepts(
    z.object({
      id: z.uuid(),
      email: z.email(),
      site: z.url(),
      at: z.iso.datetime(),
      day: z.iso.date(),
      count: z.number().int().min(3).max(7),
      ratio: z.number().gt(0).lt(1),
      step: z.number().multipleOf(5).min(12),
      code: z.string().min(12).max(20),
      short: z.string().max(2),
      kind: z.enum(['a', 'b']),
      fixed: z.literal('yes'),
      maybe: z.string().nullable(),
      optional: z.boolean().optional(),
      list: z.array(z.object({ x: z.number() })).min(3),
      pair: z.tuple([z.string(), z.number()]),
      either: z.union([z.number(), z.string()]),
      both: z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })),
      record: z.record(z.string(), z.number()),
    }),
  );
});

test('a recursive schema (by $ref) gets a finite value', () => {
  type Node = { name: string; children: Node[] };
  const NodeSchema: z.ZodType<Node> = z.lazy(() => z.object({ name: z.string(), children: z.array(NodeSchema) }));
  const value = accepts(z.object({ root: NodeSchema })) as { root: Node };
  let depth = 0;
  for (let n: Node | undefined = value.root; n; n = n.children[0]) depth++;
  expect(depth).toBeGreaterThan(1);
});

test('$defs references resolve, and a ref that points nowhere is taken as any value', () => {
  const schema = {
    type: 'object',
    properties: { a: { $ref: '#/$defs/Point' }, b: { $ref: '#/definitions/Missing' } },
    required: ['a', 'b'],
    $defs: { Point: { type: 'object', properties: { x: { type: 'integer', minimum: 4 } }, required: ['x'] } },
  };
  expect(valueForSchema(schema, 'w')).toEqual({ a: { x: 4 }, b: 'w' });
});

test('a schema that fans out exponentially through $refs is answered with bounded work', () => {
  // Each level has two required references to the next: 2^40 leaves if expanded naively.
  const $defs: Record<string, unknown> = { L40: { type: 'string' } };
  for (let i = 0; i < 40; i++)
    $defs[`L${i}`] = { type: 'object', properties: { l: { $ref: `#/$defs/L${i + 1}` }, r: { $ref: `#/$defs/L${i + 1}` } }, required: ['l', 'r'] };
  const value = valueForSchema({ $ref: '#/$defs/L0', $defs }, 'w');
  expect(JSON.stringify(value).length).toBeLessThan(200_000);
});

test('a schema that requires itself forever, and huge minItems and minLength, stay bounded', () => {
  const self = { type: 'object', properties: { next: { $ref: '#' } }, required: ['next'] };
  expect(JSON.stringify(valueForSchema(self, 'w')).length).toBeLessThan(200_000);
  const big = { type: 'array', minItems: 1e9, items: { type: 'string', minLength: 1e9 } };
  expect(JSON.stringify(valueForSchema(big, 'w')).length).toBeLessThan(200_000);
  const loop = { anyOf: [{ $ref: '#' }] };
  expect(() => valueForSchema(loop, 'w')).not.toThrow();
});
