/**
 * Admin Lambda entry: `/admin/keys…` behind API Gateway methods with AWS_IAM authorization, so a
 * request only arrives here after IAM has checked the caller's SigV4 signature and policy
 * (`AiGateway.grantAdmin`). It shares the key store code with the proxy and the local server.
 */
import { ENV_LOG_LEVEL } from '../adapters/aws-env';
import { consoleLogger } from '../adapters/console-logger';
import { createStreamingHandler, initOnce } from '../adapters/lambda-stream';

const app = initOnce(async () => {
  const { createAwsAdmin } = await import('../adapters/aws-runtime');
  return createAwsAdmin(process.env).admin;
});

export const handler = awslambda.streamifyResponse(createStreamingHandler(app, consoleLogger(process.env[ENV_LOG_LEVEL] ?? 'info')));
