/** The kinds of personal data and secrets the redaction engine detects (redaction.ts), named by the guard's config too. */
export type PiiType = 'secret' | 'card' | 'iban' | 'ssn' | 'email' | 'phone';

/** Every type, in the order that resolves overlaps. */
export const PII_TYPES: readonly PiiType[] = ['secret', 'card', 'iban', 'ssn', 'email', 'phone'];
