import { DISPATCH_CONFIG_ENV } from '../contract/names';
import { createClients } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import { FargateLauncher } from './runtime/fargate-launcher';
import type { BatchResponse, SqsEvent } from '../internal/runtime/sqs';

// Built once per container: config parsing and the ECS client stay off the
// per-batch path.
const config = parseConfig(process.env[DISPATCH_CONFIG_ENV]);
if (config.target.kind !== 'fargateJob') throw new Error(`this handler launches Fargate jobs, not '${config.target.kind}' targets`);
const clients = createClients(config.target.ledger);
const dispatcher = new Dispatcher(config, new FargateLauncher(config.target, config.startedBy, clients), clients);

/** Time kept back from the Lambda deadline for dead-lettering and the response. */
const DEADLINE_MARGIN_MS = 10_000;

export const handler = async (event: SqsEvent, context?: { getRemainingTimeInMillis?: () => number }): Promise<BatchResponse> =>
  dispatcher.handle(event, context?.getRemainingTimeInMillis
    ? { deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS }
    : {});
