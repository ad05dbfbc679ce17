import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DISPATCH_CONFIG_ENV } from './dispatch-config';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import type { BatchResponse, SqsEvent } from './runtime/types';

// Built once per container: config parsing and client creation stay off the
// per-batch path.
const dispatcher = new Dispatcher(
  parseConfig(process.env[DISPATCH_CONFIG_ENV]),
  new ECSClient({ maxAttempts: 4 }),
  new SQSClient({ maxAttempts: 4 }),
);

export const handler = async (event: SqsEvent): Promise<BatchResponse> => dispatcher.handle(event);
