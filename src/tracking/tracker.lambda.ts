import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseTrackerConfig, Tracker } from './runtime/tracker';
import { TRACKER_CONFIG_ENV } from './tracking-config';
import { REQUEST_HANDLER } from '../dispatch/runtime/clients';
import type { BatchResponse, SqsEvent } from '../dispatch/runtime/types';

const requestHandler = REQUEST_HANDLER;
const tracker = new Tracker(parseTrackerConfig(process.env[TRACKER_CONFIG_ENV]), {
  ecs: new ECSClient({ maxAttempts: 4, requestHandler }),
  sqs: new SQSClient({ maxAttempts: 4, requestHandler }),
  events: new EventBridgeClient({ maxAttempts: 4, requestHandler }),
});

export const handler = async (event: SqsEvent): Promise<BatchResponse> => tracker.handle(event);
