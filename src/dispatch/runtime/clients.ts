import { ECSClient, ECSClientConfig } from '@aws-sdk/client-ecs';
import { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { DispatcherClients, LogFn } from './dispatcher';
import { RequestHandler, s3PutObject } from './s3-put';

/**
 * HTTP settings of every client the handlers create. Without
 * throwOnRequestTimeout the SDK only logs a warning when the timeout passes.
 */
export const REQUEST_HANDLER = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true };

/** Settings shared by the handler and the tests that run it against a fake endpoint. */
export interface ClientOverrides {
  readonly ecs?: ECSClientConfig;
  readonly sqs?: SQSClientConfig;
  readonly log?: LogFn;
  /** @default true */
  readonly metrics?: boolean;
}

/**
 * The dispatcher's AWS clients. The SDK paces RunTask to what ECS accepts
 * (adaptive retry mode), and retries throttling, 5xx and dropped
 * connections with backoff (4 attempts; every RunTask carries its client
 * token, so a retried call cannot launch twice); a request with no response
 * after 10 s is abandoned and retried. What still fails returns to the queue.
 */
export function createClients(overrides: ClientOverrides = {}): DispatcherClients {
  const ecs = new ECSClient({
    maxAttempts: 4,
    // Adaptive mode adds a client-side rate limiter that slows down when ECS
    // throttles, instead of letting records fail and wait out the queue's
    // visibility timeout (see `npm run bench`, throughputRatio).
    retryMode: 'adaptive',
    requestHandler: REQUEST_HANDLER,
    ...overrides.ecs,
  });
  let sqs: SQSClient | undefined;
  return {
    ecs,
    // Only dead-lettering and carry-over use SQS: created on first use.
    sqs: () => (sqs ??= new SQSClient({ maxAttempts: 4, ...overrides.sqs })),
    putObject: s3PutObject({
      region: () => ecs.config.region(),
      credentials: () => ecs.config.credentials(),
      handler: ecs.config.requestHandler as RequestHandler,
    }),
    log: overrides.log,
    metrics: overrides.metrics,
  };
}
