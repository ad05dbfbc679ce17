import { DISPATCH_CONFIG_ENV } from './dispatch-config';
import { createClients } from './runtime/clients';
import { Dispatcher, parseConfig } from './runtime/dispatcher';
import type { BatchResponse, SqsEvent } from './runtime/types';

// Built once per container: config parsing and the ECS client stay off the
// per-batch path.
const dispatcher = new Dispatcher(parseConfig(process.env[DISPATCH_CONFIG_ENV]), createClients());

export const handler = async (event: SqsEvent): Promise<BatchResponse> => dispatcher.handle(event);
