/** Proves the redaction benchmark runs and reports every input (its figures are not asserted: they are the machine's). */
import { guardBench, renderGuard } from '../../bench/guard';
import { adversarialInputs, redactionBench, renderRedaction } from '../../bench/redaction';

test('the redaction bench measures normal text and every adversarial input', () => {
  const report = redactionBench({ sizeKb: 4, minMs: 2 });
  expect(report.adversarial.map((r) => r.input)).toEqual(Object.keys(adversarialInputs(16)));
  for (const row of [report.normal, ...report.adversarial]) expect(row.mbPerS).toBeGreaterThan(0);
  expect(renderRedaction(report)).toMatch(/^(PASS|FAIL) redaction worst case/m);
});

test('the guard bench measures each prompt size, both first-token times and the output guard on a streamed answer', async () => {
  const r = await guardBench({ minMs: 1, tokenMs: 1, tokens: 100, promptKbs: [1, 4], answerKb: 4 });
  expect(r.rules).toBe(20);
  expect(r.perRequest.map((p) => p.promptKb)).toEqual([1, 4]);
  for (const p of r.perRequest) for (const v of [p.us, p.vsParse, p.ruleByRuleVsSet]) expect(v).toBeGreaterThan(0);
  for (const ms of [r.ttftUnguardedMs, r.ttftGuardedMs]) expect(ms).toBeGreaterThanOrEqual(0); // a first token was seen on both
  // A count, not a time: prose leaves the window after a couple of tokens, not 256 characters later.
  expect(r.tokensBeforeFirstText).toBeGreaterThanOrEqual(1);
  expect(r.tokensBeforeFirstText).toBeLessThan(256 / 4);
  expect(r.streamUsPerKb).toBeGreaterThan(0);
  expect(renderGuard(r)).toContain('through the 256-char output window');
});
