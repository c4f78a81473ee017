/** Proves the redaction benchmark runs and reports every input (its figures are not asserted: they are the machine's). */
import { adversarialInputs, redactionBench, renderRedaction } from '../../bench/redaction';

test('the redaction bench measures normal text and every adversarial input', () => {
  const report = redactionBench({ sizeKb: 4, minMs: 2 });
  expect(report.adversarial.map((r) => r.input)).toEqual(Object.keys(adversarialInputs(16)));
  for (const row of [report.normal, ...report.adversarial]) expect(row.mbPerS).toBeGreaterThan(0);
  expect(renderRedaction(report)).toMatch(/^(PASS|FAIL) redaction worst case/m);
});
