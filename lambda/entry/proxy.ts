/**
 * Proxy Lambda entry (API Gateway REST → response streaming). The gateway is built on the first
 * invocation and kept for the container's life; the AWS runtime module (and with it the SDK
 * clients) loads lazily, so importing this bundle is cheap. The handler streams each response and
 * flushes the log sink after the client's last byte.
 */
import { ENV_LOG_LEVEL } from '../adapters/aws-env';
import { consoleLogger } from '../adapters/console-logger';
import { createStreamingHandler, initOnce } from '../adapters/lambda-stream';

const app = initOnce(async () => {
  const { createAwsGateway } = await import('../adapters/aws-runtime');
  return createAwsGateway(process.env, __dirname).gateway;
});

export const handler = awslambda.streamifyResponse(createStreamingHandler(app, consoleLogger(process.env[ENV_LOG_LEVEL] ?? 'info')));
