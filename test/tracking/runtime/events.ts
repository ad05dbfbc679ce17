/**
 * `ECS Task State Change` events shaped like the ones EventBridge delivers
 * (Amazon ECS developer guide, "Amazon ECS task state change events"; the
 * fields a Fargate task carries).
 */
import { JobOutcome } from '../../../src/contract/job';
import { TRACKER_CONFIG_VERSION, TrackerConfig } from '../../../src/contract/tracker-config';

export const CLUSTER = 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs';
export const STARTED_BY = 'hc-0123456789abcdef';

export interface StoppedTask {
  readonly taskId?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  /** The job's essential container (`job`); undefined exit code = none reported. */
  readonly job?: { exitCode?: number; reason?: string } | null;
  /** Other containers (sidecars). */
  readonly sidecars?: Array<{ name: string; exitCode?: number; reason?: string }>;
  readonly env?: Record<string, string>;
  readonly started?: boolean;
  readonly startedBy?: string;
  readonly capacityProviderName?: string;
}

export function taskStopped(t: StoppedTask = {}) {
  const taskArn = `arn:aws:ecs:eu-west-1:111122223333:task/jobs/${t.taskId ?? '0f7a1b2c3d4e5f60718293a4b5c6d7e8'}`;
  const container = (name: string, c: { exitCode?: number; reason?: string }) => ({
    containerArn: `arn:aws:ecs:eu-west-1:111122223333:container/jobs/${name}`,
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
    lastStatus: 'STOPPED',
    name,
    image: name === 'job' ? 'public.ecr.aws/aws-cli/aws-cli:latest' : 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
    ...(c.reason ? { reason: c.reason } : {}),
    taskArn,
    networkInterfaces: [{ attachmentId: 'a1', privateIpv4Address: '10.0.1.23' }],
    cpu: '0',
  });
  const started = t.started ?? true;
  return {
    'version': '0',
    'id': 'e1a2b3c4-5d6e-7f80-91a2-b3c4d5e6f708',
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': '111122223333',
    'time': '2026-11-27T10:05:00Z',
    'region': 'eu-west-1',
    'resources': [taskArn],
    'detail': {
      attachments: [{ id: 'a1', type: 'eni', status: 'DELETED', details: [{ name: 'subnetId', value: 'subnet-a' }] }],
      availabilityZone: 'eu-west-1a',
      capacityProviderName: t.capacityProviderName ?? 'FARGATE',
      clusterArn: CLUSTER,
      connectivity: 'CONNECTED',
      connectivityAt: '2026-11-27T10:00:01.000Z',
      containers: [
        ...(t.job === null ? [] : [container('job', t.job ?? { exitCode: 0 })]),
        ...(t.sidecars ?? []).map((s) => container(s.name, s)),
      ],
      cpu: '256',
      createdAt: '2026-11-27T10:00:00.000Z',
      desiredStatus: 'STOPPED',
      enableExecuteCommand: false,
      ephemeralStorage: { sizeInGiB: 20 },
      executionStoppedAt: '2026-11-27T10:04:58.000Z',
      group: 'family:count',
      launchType: 'FARGATE',
      lastStatus: 'STOPPED',
      memory: '512',
      overrides: {
        containerOverrides: [{
          environment: Object.entries({
            KEY: 'in/a.txt', HC_JOB_ID: 'job-1', HC_RUN: '1', HC_ATTEMPT: '1', HC_ENQUEUED_AT: '2026-11-27T09:59:50.000Z', ...t.env,
          }).map(([name, value]) => ({ name, value })),
          name: 'job',
        }],
      },
      platformVersion: '1.4.0',
      ...(started ? {
        pullStartedAt: '2026-11-27T10:00:05.000Z',
        pullStoppedAt: '2026-11-27T10:00:09.000Z',
        startedAt: '2026-11-27T10:00:10.000Z',
      } : {}),
      startedBy: t.startedBy ?? STARTED_BY,
      stopCode: t.stopCode ?? 'EssentialContainerExited',
      stoppedAt: '2026-11-27T10:05:00.000Z',
      stoppedReason: t.stoppedReason ?? 'Essential container in task exited',
      stoppingAt: '2026-11-27T10:04:59.000Z',
      taskArn,
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:3',
      updatedAt: '2026-11-27T10:05:00.000Z',
      version: 5,
    },
  };
}

/** A tracker config whose queues live on the fake endpoint at `queueUrl`. */
export function trackerConfig(queueUrl: (name: string) => string, overrides: Partial<TrackerConfig> = {}): TrackerConfig {
  return {
    version: TRACKER_CONFIG_VERSION,
    startedBy: STARTED_BY,
    cluster: CLUSTER,
    containerName: 'job',
    dispatchQueueUrl: queueUrl('dispatch'),
    failedJobsQueueUrl: queueUrl('failed-jobs'),
    retryAttempts: 2,
    retryableOutcomes: [JobOutcome.INTERRUPTED, JobOutcome.FAILED_TO_START, JobOutcome.START_TIMED_OUT],
    eventBusName: 'default',
    ledger: { table: 'jobs', ttlSeconds: 30 * 86400 },
    ...overrides,
  };
}
