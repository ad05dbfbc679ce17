import { DISPATCH_CONFIG_ENV } from '../contract/names';
import { createClients } from './runtime/clients';
import { Dispatcher, lambdaHandler, parseConfig } from './runtime/dispatcher';
import { FargateLauncher } from './runtime/fargate-launcher';

// Built once per container: config parsing and the ECS client stay off the
// per-batch path.
const config = parseConfig(process.env[DISPATCH_CONFIG_ENV]);
if (config.target.kind !== 'fargateJob') throw new Error(`this handler launches Fargate jobs, not '${config.target.kind}' targets`);
const clients = createClients(config.target.ledger);
const dispatcher = new Dispatcher(config, new FargateLauncher(config.target, config.startedBy, clients), clients);

export const handler = lambdaHandler(dispatcher);
