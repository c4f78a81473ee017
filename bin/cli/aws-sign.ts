/**
 * SigV4 signing for the deployed admin API (API Gateway methods with AWS_IAM authorization):
 * `ai-gateway keys … --url https://<api>.execute-api.<region>.amazonaws.com/prod --aws`.
 * Credentials come from the standard chain (env, profile, SSO, instance/role), like the AWS CLI.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AdminClientOptions } from './admin-client';

export type RequestSigner = NonNullable<AdminClientOptions['sign']>;

/** The region of an execute-api URL (`https://abc123.execute-api.eu-west-1.amazonaws.com/prod`). */
export function regionFromApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
}

export interface AwsSignerOptions {
  readonly region: string;
  /** @default - the default credential chain (environment, shared config/SSO, container/instance role) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Signing time (tests). @default - now */
  readonly now?: () => Date;
}

/** A `sign` hook for AdminClient: returns the request's headers plus the SigV4 ones. */
export function awsSigner(options: AwsSignerOptions): RequestSigner {
  const signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials: options.credentials ?? defaultProvider(), sha256: Sha256 });
  return async ({ method, url, headers, body }) => {
    const u = new URL(url);
    const query: Record<string, string> = {};
    u.searchParams.forEach((v, k) => {
      query[k] = v;
    });
    const signed = await signer.sign(
      {
        method,
        protocol: u.protocol,
        hostname: u.hostname,
        port: u.port ? Number(u.port) : undefined,
        path: u.pathname,
        query,
        headers: { ...headers, host: u.host },
        body,
      },
      { signingDate: options.now?.() },
    );
    // fetch sets Host itself (to the same value that was signed).
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}
