import { DISPATCH_CONFIG_ENV } from '../contract/names';
import { createClients } from './runtime/clients';
import { Dispatcher, lambdaHandler, parseConfig } from './runtime/dispatcher';
import { RouteLauncher } from './runtime/route-launcher';

// The dispatcher of a routing target: per job, a Lambda worker (invoked
// asynchronously) or the Fargate job; the workers' invocation records come
// back through the route's outcome queue and are settled here (outcome, spillover).
const config = parseConfig(process.env[DISPATCH_CONFIG_ENV]);
if (config.target.kind !== 'route') throw new Error(`this handler routes jobs, not '${config.target.kind}' targets`);
const clients = createClients(config.target.ledger);
const dispatcher = new Dispatcher(config, new RouteLauncher(config.target, config.startedBy, clients), clients);

export const handler = lambdaHandler(dispatcher);
