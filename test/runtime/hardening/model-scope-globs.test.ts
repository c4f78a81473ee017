/**
 * Issue 12 item 6: model-scope globs match in linear time (glob.ts), with the same answers as the
 * obvious definition. Timing is in bench/model-scope.ts; here only correctness.
 */
import fc from 'fast-check';
import { matchGlob, compileGlob, globMatches } from '../../../lambda/core/glob';
import { type KeyRecord, modelAllowed } from '../../../lambda/core/keys';
import { MAX_MODEL_GLOBS, MAX_MODEL_GLOB_CHARS, keyChanges, newKeyFields } from '../../../lambda/core/admin';

/** The definition: `*` any run (possibly empty), `?` exactly one character, everything else itself. */
function reference(glob: string, name: string): boolean {
  // match[i][j]: glob[i..] matches name[j..]
  const next = new Array<boolean>(name.length + 1).fill(false);
  next[name.length] = true;
  for (let i = glob.length - 1; i >= 0; i--) {
    const cur = new Array<boolean>(name.length + 1).fill(false);
    for (let j = name.length; j >= 0; j--) {
      const g = glob[i];
      if (g === '*') cur[j] = next[j] || (j < name.length && cur[j + 1]);
      else cur[j] = j < name.length && (g === '?' || g === name[j]) && next[j + 1];
    }
    next.splice(0, next.length, ...cur);
  }
  return next[0];
}

const key = (models: string[]): KeyRecord => ({ id: 'k', name: 'k', createdAt: '', logging: 'metadata', hint: 'xxxx', models });

test('6.1: globs answer as the definition does, on random globs and names over a small alphabet', () => {
  const glob = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '/', '-'), maxLength: 14 });
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '/', '-'), maxLength: 18 });
  fc.assert(
    fc.property(glob, name, (g, n) => {
      expect(matchGlob(compileGlob(g), n)).toBe(reference(g, n));
    }),
    { numRuns: 5000 },
  );
});

test('6.2: long `?` segments (the bit-parallel path, several 32-bit words) answer as the definition does', () => {
  const glob = fc.string({ unit: fc.constantFrom('a', 'b', '?', '*'), minLength: 30, maxLength: 120 });
  const name = fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 30, maxLength: 160 });
  fc.assert(
    fc.property(glob, name, (g, n) => {
      expect(globMatches(g, n)).toBe(reference(g, n));
    }),
    { numRuns: 1000 },
  );
});

test('6.3: the globs that made the regex matcher backtrack polynomially still answer correctly', () => {
  const name = 'a'.repeat(250) + 'c';
  const hostile = key([`${'*a'.repeat(60)}b`, `*?${'a'.repeat(120)}b*`, `*${'a'.repeat(60)}?${'a'.repeat(60)}b*`]);
  expect(modelAllowed(hostile, name)).toBe(false);
  expect(modelAllowed(key([`${'*a'.repeat(60)}*c`]), name)).toBe(true);
  expect(modelAllowed(key(['gpt-4o*', 'claude-?-*']), 'claude-3-opus')).toBe(true);
  expect(modelAllowed(key(['gpt-4o*']), 'gpt-4')).toBe(false);
  expect(modelAllowed(key(['bedrock/*']), 'bedrock/us.anthropic.claude')).toBe(true);
});

test('6.4: the admin API holds a key to 32 globs of 128 characters (the bound bench/model-scope.ts measures)', () => {
  const ok = Array.from({ length: MAX_MODEL_GLOBS }, (_, i) => `${'*a'.repeat(MAX_MODEL_GLOB_CHARS / 2 - 1)}${i}`.slice(0, MAX_MODEL_GLOB_CHARS));
  expect(newKeyFields({ name: 'k', models: ok }, 0).models).toEqual(ok);
  expect(() => newKeyFields({ name: 'k', models: [...ok, 'gpt-4o'] }, 0)).toThrow(/at most 32 model name globs/);
  expect(() => keyChanges({ models: ['x'.repeat(MAX_MODEL_GLOB_CHARS + 1)] }, 0)).toThrow(/1 to 128 characters/);
});
