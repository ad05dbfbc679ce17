import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseTrackerConfig, Tracker } from './runtime/tracker';
import { TRACKER_CONFIG_ENV } from '../contract/names';
import { CLIENT_DEFAULTS } from '../internal/runtime/clients';
import type { BatchResponse, SqsEvent } from '../internal/runtime/sqs';

const tracker = new Tracker(parseTrackerConfig(process.env[TRACKER_CONFIG_ENV]), {
  ecs: new ECSClient(CLIENT_DEFAULTS),
  sqs: new SQSClient(CLIENT_DEFAULTS),
  events: new EventBridgeClient(CLIENT_DEFAULTS),
});

export const handler = async (event: SqsEvent): Promise<BatchResponse> => tracker.handle(event);
