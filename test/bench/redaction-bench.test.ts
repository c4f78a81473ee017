/** Proves the redaction benchmark runs and reports every input (its figures are not asserted: they are the machine's). */
import { guardBench, renderGuard } from '../../bench/guard';
import { adversarialInputs, redactionBench, renderRedaction } from '../../bench/redaction';

test('the redaction bench measures normal text and every adversarial input', () => {
  const report = redactionBench({ sizeKb: 4, minMs: 2 });
  expect(report.adversarial.map((r) => r.input)).toEqual(Object.keys(adversarialInputs(16)));
  for (const row of [report.normal, ...report.adversarial]) expect(row.mbPerS).toBeGreaterThan(0);
  expect(renderRedaction(report)).toMatch(/^(PASS|FAIL) redaction worst case/m);
});

test('the guard bench measures both prompt sizes and both first-token times', async () => {
  const r = await guardBench({ minMs: 1, tokenMs: 1, tokens: 100 });
  expect(r.rules).toBe(20);
  expect(r.perRequestUs.map((p) => p.promptKb)).toEqual([1, 100]);
  for (const ms of [r.ttftUnguardedMs, r.ttftGuardedMs]) expect(ms).toBeGreaterThanOrEqual(0); // a first token was seen on both
  expect(renderGuard(r)).toContain('through the 256-char output window');
});
