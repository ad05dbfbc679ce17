import { ECSClient, ECSClientConfig } from '@aws-sdk/client-ecs';
import type { DispatcherClients } from './dispatcher';
import type { RouteClients } from './route-launcher';
import type { LedgerConfig } from '../../contract/dispatch-config';
import { CLIENT_DEFAULTS } from '../../internal/runtime/clients';
import { eventsPutEvent } from '../../internal/runtime/events-put';
import { lambdaInvokeAsync } from '../../internal/runtime/lambda-invoke';
import { ledgerStore } from '../../internal/runtime/ledger';
import type { LogFn } from '../../internal/runtime/log';
import { RequestHandler, s3PutObject, SigningOptions } from '../../internal/runtime/signed-request';
import { sqsSendMessage } from '../../internal/runtime/sqs-send';

/** Settings shared by the handler and the tests that run it against a fake endpoint. */
export interface ClientOverrides {
  readonly ecs?: ECSClientConfig;
  /** SQS endpoint. @default AWS_ENDPOINT_URL_SQS, or the region's */
  readonly sqsEndpoint?: string;
  readonly log?: LogFn;
  /** @default true */
  readonly metrics?: boolean;
  /** DynamoDB endpoint. @default AWS_ENDPOINT_URL_DYNAMODB, or the region's */
  readonly dynamoEndpoint?: string;
  /** Lambda endpoint (routing dispatchers). @default AWS_ENDPOINT_URL_LAMBDA, or the region's */
  readonly lambdaEndpoint?: string;
  /** EventBridge endpoint (routing dispatchers). @default AWS_ENDPOINT_URL_EVENTBRIDGE, or the region's */
  readonly eventsEndpoint?: string;
}

/**
 * The Fargate dispatcher's AWS clients. The SDK paces RunTask to what ECS
 * accepts (adaptive retry mode), and retries throttling, 5xx and dropped
 * connections with backoff (4 attempts; every RunTask carries its client
 * token, so a retried call cannot launch twice); a request with no response
 * after 10 s is abandoned and retried. What still fails returns to the queue.
 */
export function createClients(ledger: LedgerConfig, overrides: ClientOverrides = {}): DispatcherClients & RouteClients {
  const ecs = new ECSClient({
    ...CLIENT_DEFAULTS,
    // Adaptive mode adds a client-side rate limiter that slows down when ECS
    // throttles, instead of letting records fail and wait out the queue's
    // visibility timeout (see `npm run bench`, throughputRatio).
    retryMode: 'adaptive',
    ...overrides.ecs,
  });
  const signing = signingOf(ecs);
  return {
    ecs,
    sendMessage: sqsSendMessage(signing, overrides.sqsEndpoint),
    putObject: s3PutObject(signing),
    ledger: ledgerStore(ledger, signing, overrides.dynamoEndpoint),
    // Only a routing dispatcher invokes functions (a few hundred bytes of code otherwise unused).
    invoke: lambdaInvokeAsync(signing, overrides.lambdaEndpoint),
    putEvent: eventsPutEvent(signing, overrides.eventsEndpoint),
    log: overrides.log,
    metrics: overrides.metrics,
  };
}

/** Region, credentials and HTTP handler of an SDK client, for the handlers' own signed requests. */
export function signingOf(client: {
  config: { region: () => Promise<string>; credentials: () => Promise<any>; requestHandler: unknown };
}): SigningOptions & { region: () => Promise<string> } {
  return {
    region: () => client.config.region(),
    credentials: () => client.config.credentials(),
    handler: client.config.requestHandler as RequestHandler,
  };
}
