/**
 * Admin Lambda entry: `/admin/keys…` behind API Gateway methods with AWS_IAM authorization, so a
 * request only arrives here after IAM has checked the caller's SigV4 signature and policy
 * (`AiGateway.grantAdmin`). It shares the key store code with the proxy and the local server.
 */
import { ENV_LOG_LEVEL } from '../contract/env';
import { consoleLogger } from '../adapters/console-logger';
import { createStreamingHandler, initOnce } from '../adapters/lambda-stream';

const app = initOnce(async () => {
  const { createAwsAdmin } = await import('../adapters/aws-runtime');
  return createAwsAdmin(process.env);
});

// With provisioned concurrency the environment is initialized ahead of traffic: build the app
// during INIT so no request pays for it. On demand, INIT and the first request are one wait
// for the client either way, so the import stays lean and the first invocation builds it.
if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'provisioned-concurrency') void app().catch(() => undefined);

export const handler = awslambda.streamifyResponse(createStreamingHandler(app, consoleLogger(process.env[ENV_LOG_LEVEL] ?? 'info')));
