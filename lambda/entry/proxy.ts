/**
 * Proxy Lambda entry (API Gateway REST → response streaming). The gateway is built on the first
 * invocation and kept for the container's life; the AWS runtime module (and with it the SDK
 * clients) loads lazily, so importing this bundle is cheap. The handler streams each response and
 * flushes the log sink after the client's last byte.
 */
import { ENV_LOG_LEVEL } from '../contract/env';
import { consoleLogger } from '../adapters/console-logger';
import { createStreamingHandler, initOnce } from '../adapters/lambda-stream';

const app = initOnce(async () => {
  const { createAwsGateway } = await import('../adapters/aws-runtime');
  return createAwsGateway(process.env, __dirname);
});

// With provisioned concurrency the environment is initialized ahead of traffic: build the app
// during INIT so no request pays for it. On demand, INIT and the first request are one wait
// for the client either way, so the import stays lean and the first invocation builds it.
if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'provisioned-concurrency') void app().catch(() => undefined);

export const handler = awslambda.streamifyResponse(createStreamingHandler(app, consoleLogger(process.env[ENV_LOG_LEVEL] ?? 'info')));
