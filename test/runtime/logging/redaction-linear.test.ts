/**
 * 12.1: redaction is linear on any input. Each input below is 200 KB built to make a backtracking
 * pattern with unbounded runs go quadratic (the old JWT, e-mail and SSN patterns took minutes on
 * these, past the suite's timeout); the engine must return the right answer. Throughput is measured
 * in bench/redaction.ts, not here.
 */
import { RedactionBudget, detectPii, overBudgetMarker, redactText, redactValue } from '../../../lambda/core/redaction';

const N = 100_000; // units of two or more characters: 200 KB and up

describe('12.1: redaction on adversarial input', () => {
  test.each([
    ['a dotted local part with no @ (e-mail)', 'a.'.repeat(N)],
    ['an @ with an endless dotted domain and no top-level domain (e-mail)', `x@${'a.'.repeat(N)}`],
    ['@ at every other character (e-mail)', 'a@'.repeat(N)],
    ['a JWT header run with no dot (JWT)', 'eyJ-'.repeat(N)],
    ['dashed digits (SSN)', '123-'.repeat(N)],
    ['PEM BEGIN lines with no END (PEM)', '-----BEGIN RSA PRIVATE KEY-----'.repeat(N / 10)],
    ['IBAN starts in groups (IBAN)', 'DE89 '.repeat(N)],
    ['single digits (card, phone)', '1 '.repeat(N)],
    ['+ and digit groups (phone)', '+1 2 '.repeat(N)],
    ['bearer tokens too short (bearer)', 'Bearer a.'.repeat(N / 4)],
  ])('leaves %s unchanged', (_name, input) => {
    expect(redactText(input)).toBe(input);
  });

  test.each([
    ['a 200 KB local part before a real domain is one e-mail', `${'a.'.repeat(N)}b@example.com`, '[REDACTED:email]'],
    ['a JWT whose header is a 400 KB run is one secret', `${'eyJ-'.repeat(N)}.eyJabcdefgh.${'s'.repeat(16)}`, '[REDACTED:secret]'],
    [
      'a PEM key after 10 000 BEGIN lines is one secret',
      `${'-----BEGIN RSA PRIVATE KEY-----'.repeat(N / 10)}\nMIIB\n-----END RSA PRIVATE KEY-----`,
      '[REDACTED:secret]',
    ],
    ['password= repeated is one name and one secret value', 'password='.repeat(N), 'password=[REDACTED:secret]'],
    ['sk- repeated is one key', 'sk-'.repeat(N), '[REDACTED:secret]'],
  ])('%s', (_name, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  test('real data among adversarial runs is still found, in place', () => {
    const noise = 'a.'.repeat(N / 2);
    const text = `${noise} mail carol@example.org, SSN 123-45-6789, card 4111 1111 1111 1111 ${'123-'.repeat(N / 4)} end`;
    const spans = detectPii(text);
    expect(spans.map((s) => [s.type, text.slice(s.start, s.end)])).toEqual([
      ['email', 'carol@example.org'],
      ['ssn', '123-45-6789'],
      ['card', '4111 1111 1111 1111'],
    ]);
  });
});

describe('one engine for the log and the guard: spans by type', () => {
  const text = 'mail bob@example.com or call +44 20 7946 0958; key sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe; IBAN GB82WEST12345698765432';

  test('detectPii reports each type with its position', () => {
    expect(detectPii(text).map((s) => [s.type, text.slice(s.start, s.end)])).toEqual([
      ['email', 'bob@example.com'],
      ['phone', '+44 20 7946 0958'],
      ['secret', 'sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe'],
      ['iban', 'GB82WEST12345698765432'],
    ]);
  });

  test('only the asked types are detected and redacted', () => {
    expect(detectPii(text, ['email', 'iban']).map((s) => s.type)).toEqual(['email', 'iban']);
    expect(redactText(text, ['secret'])).toBe('mail bob@example.com or call +44 20 7946 0958; key [REDACTED:secret]; IBAN GB82WEST12345698765432');
  });

  test('an overlap goes to the earlier type in the list (a secret over the digits in it)', () => {
    const key = 'sk-proj-4111111111111111abcdefgh';
    expect(detectPii(`k ${key}`).map((s) => s.type)).toEqual(['secret']);
  });
});

describe('12.1: the work per record is capped', () => {
  test('strings past the budget are replaced by a marker, never logged unexamined', () => {
    const budget = new RedactionBudget(20);
    const out = redactValue({ a: 'x@example.com', b: 'y'.repeat(30), c: 'short' }, redactText, budget);
    expect(out).toEqual({ a: '[REDACTED:email]', b: overBudgetMarker(30), c: overBudgetMarker(5) });
  });

  test('a base64 data URL (an image, a file) is logged as sent and spends none of the budget, so the text after it is still examined', () => {
    const file = `data:application/pdf;base64,${'QUFB'.repeat(1_500_000)}`;
    const budget = new RedactionBudget(1000);
    const out = redactValue({ file: { file_data: file }, answer: 'mail x@example.com' }, redactText, budget);
    expect(out).toEqual({ file: { file_data: file }, answer: 'mail [REDACTED:email]' });
    // Text dressed as a data URL is not base64, so it is scanned as any string.
    expect(redactValue('data:text/plain;base64,x@example.com', redactText)).toBe('data:text/plain;base64,[REDACTED:email]');
  });
});
