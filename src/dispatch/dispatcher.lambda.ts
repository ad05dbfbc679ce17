import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DISPATCH_CONFIG_ENV } from './dispatch-config';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import { RequestHandler, s3PutObject } from './runtime/s3-put';
import type { BatchResponse, SqsEvent } from './runtime/types';

// Built once per container: config parsing and the ECS client stay off the
// per-batch path. Throttling is retried by the SDK with backoff; what still
// fails returns to the queue.
const ecs = new ECSClient({ maxAttempts: 4 });
let sqs: SQSClient | undefined;

const dispatcher = new Dispatcher(parseConfig(process.env[DISPATCH_CONFIG_ENV]), {
  ecs,
  // Only dead-lettering and carry-over use SQS: created on first use.
  sqs: () => (sqs ??= new SQSClient({ maxAttempts: 4 })),
  putObject: s3PutObject({
    region: process.env.AWS_REGION ?? '',
    credentials: () => ecs.config.credentials(),
    handler: ecs.config.requestHandler as RequestHandler,
  }),
});

export const handler = async (event: SqsEvent): Promise<BatchResponse> => dispatcher.handle(event);
