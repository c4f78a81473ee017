/**
 * Redaction throughput (MB/s of text through `redactText`, every detector on) on ordinary chat text
 * and on adversarial strings built to make a naive pattern backtrack (runs with no end, triggers at
 * every position). The engine must stay linear: the worst adversarial case within 5× of normal text.
 *
 * Runs in this process (CPU only); each input is redacted until `minMs` have passed, after a warm-up,
 * and the best of three such rounds counts (the machine is shared: a stall is not the engine's).
 * Standalone: `node -r @swc-node/register bench/redaction.ts`.
 */
import { performance } from 'node:perf_hooks';
import { redactText } from '../lambda/core/redaction';

export interface RedactionRow {
  readonly input: string;
  readonly mbPerS: number;
}

export interface RedactionReport {
  readonly sizeKb: number;
  readonly normal: RedactionRow;
  readonly adversarial: RedactionRow[];
  /** Normal throughput over the slowest adversarial one. */
  readonly worstRatio: number;
  readonly worst: string;
}

export const REDACTION_WORST_RATIO_TARGET = 5;

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Ordinary prompt and answer text, with the odd address, phone number and figure in it. */
const NORMAL_UNIT =
  'Hi, I ordered two chairs on 2026-11-02 (order 48213) and only one arrived. ' +
  'Could you check the tracking and let me know? You can reach me at jane.doe@example.com or +1 415 555 0132. ' +
  'The assistant replied: I am sorry about that. I found your order; the second chair ships tomorrow, ' +
  'version 2.4.1 of the app shows it under "Deliveries". Total refunded: $129.99, reference RF-20931.\n';

/** Strings that made the old patterns quadratic, and the worst of each new detector's triggers. */
export function adversarialInputs(size: number): Record<string, string> {
  return {
    'email: dotted local part, no @': fill('a.', size),
    'email: @ every other char': fill('a@', size),
    'email: endless domain': `x@${fill('a.', size - 2)}`,
    'jwt: eyJ- run, no dot': fill('eyJ-', size),
    'jwt: short segments': fill('eyJaaaaaaa.', size),
    'pem: BEGIN without END': fill('-----BEGIN RSA PRIVATE KEY-----', size),
    'bearer: tokens too short': fill('Bearer a.', size),
    'key=value: names only': fill('password', size),
    'digits: single digits': fill('1 ', size),
    'phone: + groups': fill('+1 2 ', size),
    'phone: long numbers': fill('+123456789012345 ', size),
    'iban: start groups': fill('DE89 ', size),
    'ssn: dashed digits': fill('123-', size),
    'card: 16 digits failing Luhn': fill('1234 5678 9012 3456 ', size),
  };
}

function throughput(text: string, minMs: number): number {
  for (let i = 0; i < 3; i++) redactText(text); // warm-up: the JIT, and the input's own string shape
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      redactText(text);
      n++;
      elapsed = performance.now() - t0;
    } while (elapsed < minMs);
    best = Math.max(best, (text.length * n) / 1e6 / (elapsed / 1000));
  }
  return best;
}

export function redactionBench(opts: { sizeKb?: number; minMs?: number } = {}): RedactionReport {
  const size = (opts.sizeKb ?? 100) * 1024;
  const minMs = opts.minMs ?? 200;
  const normal = { input: 'ordinary chat text', mbPerS: throughput(fill(NORMAL_UNIT, size), minMs) };
  const adversarial = Object.entries(adversarialInputs(size)).map(([input, text]) => ({ input, mbPerS: throughput(text, minMs) }));
  const slowest = adversarial.reduce((a, b) => (b.mbPerS < a.mbPerS ? b : a));
  return { sizeKb: size / 1024, normal, adversarial, worstRatio: normal.mbPerS / slowest.mbPerS, worst: slowest.input };
}

export function renderRedaction(r: RedactionReport): string {
  const lines = [`Redaction throughput (${r.sizeKb} KB inputs, all detectors)`, '| input | MB/s |', '|---|---:|'];
  for (const row of [r.normal, ...r.adversarial]) lines.push(`| ${row.input} | ${row.mbPerS.toFixed(1)} |`);
  const pass = r.worstRatio <= REDACTION_WORST_RATIO_TARGET;
  lines.push(
    `${pass ? 'PASS' : 'FAIL'} redaction worst case (${r.worst}) vs normal text: ${r.worstRatio.toFixed(2)}× slower (goal ≤ ${REDACTION_WORST_RATIO_TARGET}×)`,
  );
  return lines.join('\n');
}

if (require.main === module) console.log(renderRedaction(redactionBench()));
