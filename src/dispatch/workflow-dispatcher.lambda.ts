import { SFNClient } from '@aws-sdk/client-sfn';
import { DISPATCH_CONFIG_ENV } from './dispatch-config';
import { createClients, REQUEST_HANDLER } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import { sfnStartExecution } from './runtime/start-execution';
import type { BatchResponse, SqsEvent } from './runtime/types';

// The dispatcher of a JobWorkflow: the same record handling as the job
// dispatcher, but each job starts a Step Functions execution named after it.
const sfn = new SFNClient({ maxAttempts: 4, requestHandler: REQUEST_HANDLER });
const dispatcher = new Dispatcher(parseConfig(process.env[DISPATCH_CONFIG_ENV]), {
  ...createClients(),
  startExecution: sfnStartExecution(sfn),
});

export const handler = async (event: SqsEvent): Promise<BatchResponse> => dispatcher.handle(event);
