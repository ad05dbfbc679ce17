import { SFNClient } from '@aws-sdk/client-sfn';
import { DISPATCH_CONFIG_ENV } from '../contract/names';
import { sqsClient } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import { sfnStartExecution, WorkflowLauncher } from './runtime/workflow-launcher';
import { CLIENT_DEFAULTS } from '../internal/runtime/clients';
import type { BatchResponse, SqsEvent } from '../internal/runtime/sqs';

// The dispatcher of a workflow target: the same record bookkeeping as the
// Fargate dispatcher, but each job starts a Step Functions execution named after it.
const config = parseConfig(process.env[DISPATCH_CONFIG_ENV]);
if (config.target.kind !== 'workflow') throw new Error(`this handler starts workflows, not '${config.target.kind}' targets`);
const launcher = new WorkflowLauncher(config.target, sfnStartExecution(new SFNClient(CLIENT_DEFAULTS)));
const dispatcher = new Dispatcher(config, launcher, { sqs: sqsClient() });

export const handler = async (event: SqsEvent): Promise<BatchResponse> => dispatcher.handle(event);
