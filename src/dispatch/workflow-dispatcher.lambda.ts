import { SFNClient } from '@aws-sdk/client-sfn';
import { DISPATCH_CONFIG_ENV } from '../contract/names';
import { signingOf } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import { sfnStartExecution, WorkflowLauncher } from './runtime/workflow-launcher';
import { CLIENT_DEFAULTS } from '../internal/runtime/clients';
import type { BatchResponse, SqsEvent } from '../internal/runtime/sqs';
import { sqsSendMessage } from '../internal/runtime/sqs-send';

// The dispatcher of a workflow target: the same record bookkeeping as the
// Fargate dispatcher, but each job starts a Step Functions execution named after it.
const config = parseConfig(process.env[DISPATCH_CONFIG_ENV]);
if (config.target.kind !== 'workflow') throw new Error(`this handler starts workflows, not '${config.target.kind}' targets`);
const sfn = new SFNClient(CLIENT_DEFAULTS);
const launcher = new WorkflowLauncher(config.target, sfnStartExecution(sfn));
const dispatcher = new Dispatcher(config, launcher, { sendMessage: sqsSendMessage(signingOf(sfn)) });

export const handler = async (event: SqsEvent): Promise<BatchResponse> => dispatcher.handle(event);
