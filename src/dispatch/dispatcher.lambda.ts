import { DISPATCH_CONFIG_ENV } from './dispatch-config';
import { createClients } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import type { BatchResponse, SqsEvent } from './runtime/types';

// Built once per container: config parsing and the ECS client stay off the
// per-batch path.
const dispatcher = new Dispatcher(parseConfig(process.env[DISPATCH_CONFIG_ENV]), createClients());

/** Time kept back from the Lambda deadline for dead-lettering and the response. */
const DEADLINE_MARGIN_MS = 10_000;

export const handler = async (event: SqsEvent, context?: { getRemainingTimeInMillis?: () => number }): Promise<BatchResponse> =>
  dispatcher.handle(event, context?.getRemainingTimeInMillis
    ? { deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS }
    : {});
