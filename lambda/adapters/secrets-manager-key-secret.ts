/** The VirtualKey resource's secret on Secrets Manager (the SDK ships with the Lambda runtime). */
import type { KeySecret } from './virtual-key-resource';

/** `endpoint` and `credentials` are for a local stand-in of Secrets Manager; on AWS both come from the environment. */
export function secretsManagerKeySecret(
  options: { region?: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): KeySecret {
  const sdk = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 1 });
  return {
    async get(secretArn) {
      try {
        return (await client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
      } catch (err) {
        // A secret without a value yet is simply empty.
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    },
    async put(secretArn, value) {
      await client.send(new sdk.PutSecretValueCommand({ SecretId: secretArn, SecretString: value }));
    },
  };
}
