import { DISPATCH_CONFIG_ENV } from '../contract/names';
import { createClients } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import { RouteLauncher } from './runtime/route-launcher';
import type { BatchResponse, SqsEvent } from '../internal/runtime/sqs';

// The dispatcher of a routing target: per job, a Lambda worker (invoked
// asynchronously) or the Fargate job; the workers' invocation records come
// back through the dispatch queue and are settled here (outcome, spillover).
const config = parseConfig(process.env[DISPATCH_CONFIG_ENV]);
if (config.target.kind !== 'route') throw new Error(`this handler routes jobs, not '${config.target.kind}' targets`);
const clients = createClients(config.target.ledger);
const dispatcher = new Dispatcher(config, new RouteLauncher(config.target, config.startedBy, clients), clients);

/** Time kept back from the Lambda deadline for dead-lettering and the response. */
const DEADLINE_MARGIN_MS = 10_000;

export const handler = async (event: SqsEvent, context?: { getRemainingTimeInMillis?: () => number }): Promise<BatchResponse> =>
  dispatcher.handle(event, context?.getRemainingTimeInMillis
    ? { deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS }
    : {});
