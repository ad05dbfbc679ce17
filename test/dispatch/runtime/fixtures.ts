import {
  ArrayConfig, ClaimCheckConfig, DispatchConfig, FargateJobTargetConfig, JobLaunchConfig, RouteTargetConfig,
} from '../../../src/contract/dispatch-config';
import { Dispatcher, DispatcherClients } from '../../../src/dispatch/runtime/dispatcher';
import { FargateClients, FargateLauncher } from '../../../src/dispatch/runtime/fargate-launcher';
import { RouteClients, RouteLauncher } from '../../../src/dispatch/runtime/route-launcher';
import { StartExecution, WorkflowLauncher } from '../../../src/dispatch/runtime/workflow-launcher';
import type { InvokeAsync } from '../../../src/internal/runtime/lambda-invoke';
import { SqsRecord } from '../../../src/internal/runtime/sqs';
import { inProcessLedger } from '../../harness/fake-dynamo';

export const DISPATCH_QUEUE = 'arn:aws:sqs:eu-west-1:111122223333:dispatch';
export const USER_QUEUE = 'arn:aws:sqs:eu-west-1:111122223333:orders';
export const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/dispatch-dlq';
export const DISPATCH_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/dispatch';

/** The ledger table of the test configs. */
export const LEDGER = { table: 'jobs', ttlSeconds: 30 * 86400, leaseMarginMs: 100 };

/** Test settings: the bookkeeping config, with the Fargate target's options flattened in (or a workflow). */
export type TestConfig = Partial<Omit<DispatchConfig, 'target'>> & {
  readonly claimCheck?: ClaimCheckConfig;
  readonly tracking?: boolean;
  readonly maxConcurrentTasks?: number;
  /** Each job is an array job. */
  readonly array?: ArrayConfig;
  /** Start executions of this state machine instead of launching the job. */
  readonly stateMachineArn?: string;
  /** Route per job (the Fargate job above is the route's `fargate` destination and spillover target). */
  readonly route?: Pick<RouteTargetConfig, 'rules' | 'otherwise' | 'destinations'>;
};

/** A routed function of the test configs. */
export const WORKER_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:small-worker';

/** A Fargate dispatcher config (or a workflow one, with `stateMachineArn`) as the construct renders it. */
export function config(overrides: TestConfig = {}, job: Partial<JobLaunchConfig> = {}): DispatchConfig {
  const { claimCheck, tracking, maxConcurrentTasks, stateMachineArn, route, array, ...bookkeeping } = overrides;
  const fargate: FargateJobTargetConfig = {
    kind: 'fargateJob',
    job: {
      cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs',
      taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:3',
      family: 'count',
      containerName: 'job',
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-1'],
      environment: { INPUT_URI: '{{hc:s3.uri}}', KEY: '{{hc:s3.key}}' },
      ...job,
    },
    ledger: LEDGER,
    ...(claimCheck ? { claimCheck } : {}),
    ...(tracking ? { tracking } : {}),
    ...(maxConcurrentTasks !== undefined ? { maxConcurrentTasks } : {}),
    ...(array ? { array } : {}),
  };
  return {
    version: 3,
    startedBy: 'hc-0123456789abcdef',
    deadLetterQueueUrl: DLQ_URL,
    maxReceiveCount: 5,
    launchConcurrency: 10,
    dispatchQueueUrl: DISPATCH_QUEUE_URL,
    queues: [{ arn: DISPATCH_QUEUE, dispatchQueue: true }, { arn: USER_QUEUE, dispatchQueue: false }],
    ...bookkeeping,
    target: stateMachineArn ? { kind: 'workflow', stateMachineArn }
      : route ? {
        kind: 'route',
        eventBusName: 'default',
        ...route,
        ledger: LEDGER,
        ...(claimCheck ? { claimCheck } : {}),
        fargate: { job: fargate.job, ...(tracking ? { tracking } : {}), ...(maxConcurrentTasks !== undefined ? { maxConcurrentTasks } : {}) },
      } : fargate,
  };
}

/** The Fargate target of a config (tests build Fargate configs unless they ask for a workflow). */
export function fargateTarget(c: DispatchConfig): FargateJobTargetConfig {
  if (c.target.kind === 'route' && c.target.fargate) return { ...c.target.fargate, kind: 'fargateJob', ledger: c.target.ledger, claimCheck: c.target.claimCheck };
  if (c.target.kind !== 'fargateJob') throw new Error('not a Fargate config');
  return c.target;
}

/**
 * A dispatcher with the launcher its config's target needs, as the handlers
 * build it. Without a `ledger` client, the ledger is an in-process fake
 * DynamoDB table (returned too, to look at).
 */
export function dispatcherFor(c: DispatchConfig,
  clients: DispatcherClients & Partial<FargateClients> & { startExecution?: StartExecution; invoke?: InvokeAsync }): Dispatcher {
  const ledger = clients.ledger ?? inProcessLedger().ledger;
  const launcher = c.target.kind === 'workflow'
    ? new WorkflowLauncher(c.target, clients.startExecution!)
    : c.target.kind === 'route'
      ? new RouteLauncher(c.target, c.startedBy, { ...clients, ledger, invoke: clients.invoke! } as RouteClients)
      : new FargateLauncher(c.target, c.startedBy, { ...clients, ledger } as FargateClients);
  return new Dispatcher(c, launcher, clients);
}

/** A classic S3 notification record as S3 writes it: the key URL-encoded, spaces as '+'. */
export function s3Record(encodedKey: string, opts: { bucket?: string; sequencer?: string; versionId?: string; size?: number } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-11-27T10:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'cfg',
      bucket: { name: opts.bucket ?? 'input-bucket', arn: `arn:aws:s3:::${opts.bucket ?? 'input-bucket'}` },
      object: {
        key: encodedKey,
        size: opts.size ?? 1024,
        eTag: 'd41d8cd98f00b204e9800998ecf8427e',
        ...(opts.versionId ? { versionId: opts.versionId } : {}),
        sequencer: opts.sequencer ?? '0065F1A2B3C4D5E6F7',
      },
    },
  };
}

/** Percent-encodes a key the way S3 classic notifications do (form encoding: space → '+'). */
export function s3Encode(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sqsRecord(messageId: string, body: string, source = DISPATCH_QUEUE, receiveCount = 1): SqsRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    messageAttributes: {},
    eventSource: 'aws:sqs',
    eventSourceARN: source,
    awsRegion: 'eu-west-1',
  };
}

export function s3Message(messageId: string, records: unknown[], receiveCount = 1): SqsRecord {
  return sqsRecord(messageId, JSON.stringify({ Records: records }), DISPATCH_QUEUE, receiveCount);
}

export function eventBridgeEvent(id: string, detail: unknown, source = 'com.example.orders', detailType = 'OrderPlaced') {
  return {
    'version': '0',
    id,
    'detail-type': detailType,
    source,
    'account': '111122223333',
    'time': '2026-11-27T10:00:00Z',
    'region': 'eu-west-1',
    'resources': [],
    detail,
  };
}

export function s3EventBridgeEvent(key: string, id = 'eb-s3-1') {
  return eventBridgeEvent(id, {
    'version': '0',
    'bucket': { name: 'input-bucket' },
    'object': { 'key': key, 'size': 5, 'etag': 'b1946ac92492d2347c6235b4d2611184', 'version-id': 'v1', 'sequencer': '617f08299329d189' },
    'request-id': 'N4N7GDK58NMKJ12R',
    'requester': '111122223333',
    'reason': 'PutObject',
  }, 'aws.s3', 'Object Created');
}
