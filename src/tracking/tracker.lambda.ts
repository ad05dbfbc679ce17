import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseTrackerConfig, Tracker } from './runtime/tracker';
import { TRACKER_CONFIG_ENV } from '../contract/names';
import { CLIENT_DEFAULTS } from '../internal/runtime/clients';
import { ledgerStore } from '../internal/runtime/ledger';
import type { RequestHandler } from '../internal/runtime/signed-request';
import type { BatchResponse, SqsEvent } from '../internal/runtime/sqs';

const config = parseTrackerConfig(process.env[TRACKER_CONFIG_ENV]);
const ecs = new ECSClient(CLIENT_DEFAULTS);
const tracker = new Tracker(config, {
  ecs,
  sqs: new SQSClient(CLIENT_DEFAULTS),
  events: new EventBridgeClient(CLIENT_DEFAULTS),
  ledger: ledgerStore(config.ledger, {
    region: () => ecs.config.region(),
    credentials: () => ecs.config.credentials(),
    handler: ecs.config.requestHandler as RequestHandler,
  }),
});

export const handler = async (event: SqsEvent): Promise<BatchResponse> => tracker.handle(event);
