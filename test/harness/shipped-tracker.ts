import { BundledHandler, lambdaEnvironment, loadBundle, TRACKER_BUNDLE } from './bundle-loader';
import type { Rig } from './rig';
import type { TrackerConfig } from '../../src/contract/tracker-config';
import { fargateTarget } from '../dispatch/runtime/fixtures';
import { trackerConfig } from '../tracking/runtime/events';

/** How a fake task stops. */
export type Stop = { stopCode: string; stoppedReason: string; exitCode?: number };

export interface ShippedTracker {
  readonly handle: BundledHandler;
  readonly config: TrackerConfig;
  /** Stops the fake task and delivers its STOPPED event to the tracker. */
  stop(taskArn: string, stop: Stop): Promise<any>;
  /** Delivers an event (as the tracker queue would: one record). */
  deliver(event: unknown): Promise<any>;
  /** Delivers the scheduled sweep event (timeouts, start timeouts). */
  sweep(): Promise<any>;
}

/** The shipped tracker bundle, wired to a rig's dispatcher: its retries go to the rig's dispatch queue. */
export function shippedTracker(r: Rig, overrides: Partial<TrackerConfig> = {}): ShippedTracker {
  const config = trackerConfig((name) => r.fake.queueUrl(name), {
    startedBy: r.config.startedBy, cluster: fargateTarget(r.config).job.cluster, dispatchQueueUrl: r.config.dispatchQueueUrl, ...overrides,
  });
  const handle = loadBundle(TRACKER_BUNDLE, { ...lambdaEnvironment(r.fake), HC_TRACKER_CONFIG: JSON.stringify(config) }, r.logs);
  let n = 0;
  const deliver = (event: unknown) => handle({
    Records: [{ messageId: `tracker-${n++}`, body: JSON.stringify(event), eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:tracker' }],
  });
  return {
    handle,
    config,
    deliver,
    stop: (taskArn, stop) => deliver(r.fake.stopEvent(taskArn, stop)),
    sweep: () => deliver({ 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'detail': {} }),
  };
}
