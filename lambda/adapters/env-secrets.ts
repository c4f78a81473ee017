/** Local secret source: `{ env: NAME }` reads the environment; `{ secret: NAME }` reads GATEWAY_SECRET_<NAME> as a local stand-in. */
import type { SecretRef } from '../core/config';
import type { SecretSource } from '../core/ports';

export function envSecretName(secret: string): string {
  return 'GATEWAY_SECRET_' + secret.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
}

export class EnvSecretSource implements SecretSource {
  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  async get(ref: SecretRef): Promise<string> {
    const name = 'env' in ref ? ref.env : envSecretName(ref.secret);
    const value = this.env[name];
    // The error names the variable, never a value.
    if (!value)
      throw new Error(
        'env' in ref ? `set the environment variable ${name}` : `set the environment variable ${name} (the local stand-in for the secret '${ref.secret}')`,
      );
    return value;
  }
}
