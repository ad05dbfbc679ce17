/**
 * The contract between the `JobDispatcher` construct and its handlers. The
 * construct renders it as JSON into `HC_DISPATCH_CONFIG`; the handler parses
 * and validates it once per container. Not part of the public API.
 */

/** Current config schema version; the handler rejects others. */
export const DISPATCH_CONFIG_VERSION = 3;

/** ECS limit on the serialized `overrides` of one RunTask call. */
export const MAX_OVERRIDES_CHARS = 8192;

/** Step Functions' limit on an execution's input. */
export const MAX_EXECUTION_INPUT_BYTES = 262144;

/** Version of the claim-check document (see README, "Claim check"). */
export const CLAIM_CHECK_DOCUMENT_VERSION = 1;

/** How records from one queue are read. */
export interface QueueConfig {
  /** ARN of the queue (the `eventSourceARN` of its records). */
  readonly arn: string;
  /**
   * True for the dispatcher's own queue (S3 notifications, EventBridge
   * events, envelopes); false for an `SqsSource` queue, whose messages are
   * each one job of source type `sqs`.
   */
  readonly dispatchQueue: boolean;
  /** For an `SqsSource` queue: a template (with markers) whose value is the job id. */
  readonly jobId?: string;
  /**
   * For an `SqsSource` queue with a redrive policy: its `maxReceiveCount`
   * (the dispatcher dead-letters a still-failing record itself on that
   * receive, with the reason, before SQS moves it without one).
   */
  readonly maxReceiveCount?: number;
  /**
   * A routing dispatcher's outcome queue: its Lambda workers' destinations
   * send their invocation records here, and nothing else is accepted from it
   * (a worker can send to it, so it must not be able to enqueue jobs).
   */
  readonly outcomes?: boolean;
}

export interface CapacityProviderItem {
  readonly capacityProvider: string;
  readonly weight?: number;
  readonly base?: number;
}

/** Everything a RunTask call of one Fargate job needs that is known at deploy time. */
export interface JobLaunchConfig {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly family: string;
  readonly containerName: string;
  readonly subnets: string[];
  readonly securityGroups: string[];
  readonly capacityProviderStrategy?: CapacityProviderItem[];
  readonly platformVersion?: string;
  /**
   * After a launch attempt that starts no task (Spot capacity), the next
   * attempt of the chain runs on on-demand Fargate.
   */
  readonly fallbackToOnDemand?: boolean;
  /** Environment entries that contain markers (static ones live in the task definition). */
  readonly environment: Record<string, string>;
  /** The command, when it contains markers. */
  readonly command?: string[];
}

/** Where claim-check documents are written. */
export interface ClaimCheckConfig {
  readonly bucket: string;
  /** Base URL of the bucket (`https://<bucket regional domain>`, or a path-style URL in tests). */
  readonly endpoint: string;
  /** Key prefix, ending with `/`. */
  readonly prefix: string;
}

/** How long after its batch deadline a delivery owns an attempt it got no answer for, unless the config says. */
export const DEFAULT_LEASE_MARGIN_MS = 10_000;

/** The job ledger table. */
export interface LedgerConfig {
  readonly table: string;
  /** Items expire this long after their last write. */
  readonly ttlSeconds: number;
  /**
   * How long after its batch deadline a delivery still owns the attempt it
   * reserved and got no answer for (its calls are abandoned at the
   * deadline; the handler keeps this much before the Lambda timeout).
   * @default 10000
   */
  readonly leaseMarginMs?: number;
}

/** An array job: each job launches a number of children, each a task of its own, with one completion. */
export interface ArrayConfig {
  /** A fixed number of children (2-10,000). */
  readonly size?: number;
  /** A `JobField.fromPath()` path to a list in the event: one child per element (1-10,000). */
  readonly listPath?: string;
  /**
   * The first child that ends without success fails the parent: no child
   * is retried, and children not launched yet are cancelled.
   */
  readonly failParent: boolean;
  /** The bus of the `Array Job Completed` event (the tracker's). */
  readonly eventBusName: string;
  /** Children launched per step (the construct leaves the default, 50; tests take smaller steps to exercise the cursor). */
  readonly launchStep?: number;
}

/** A dispatcher that launches one Fargate task per job. */
export interface FargateJobTargetConfig {
  readonly kind: 'fargateJob';
  readonly job: JobLaunchConfig;
  /** Where each job's attempts, tasks and outcome are recorded. */
  readonly ledger: LedgerConfig;
  readonly claimCheck?: ClaimCheckConfig;
  /** Adds the HC_JOB_ID / HC_RUN / HC_ATTEMPT / HC_ENQUEUED_AT entries to every launch. */
  readonly tracking?: boolean;
  /**
   * Most tasks started by this dispatcher that may be running at once; the
   * rest of a batch stays in the queue.
   */
  readonly maxConcurrentTasks?: number;
  /** Each job is an array job of children. */
  readonly array?: ArrayConfig;
}

/** A dispatcher that starts one workflow execution per job. */
export interface WorkflowTargetConfig {
  readonly kind: 'workflow';
  readonly stateMachineArn: string;
}

/** A rule of a route, evaluated in order; the first that matches picks the destination. */
export interface RouteRuleConfig {
  /**
   * `sizeBelow`: the job's size (S3 object size, SQS body or EventBridge detail bytes) is below `bytes`;
   * `keyPrefix` / `keySuffix`: the S3 key starts / ends with `value`;
   * `fieldEquals`: the template `field` (a `JobField` marker) resolves to `value`.
   */
  readonly kind: 'sizeBelow' | 'keyPrefix' | 'keySuffix' | 'fieldEquals';
  readonly bytes?: number;
  readonly value?: string;
  readonly field?: string;
  /** Index into `destinations`. */
  readonly destination: number;
}

/** Where a route sends a job: one of its Lambda functions, or its Fargate job. */
export type RouteDestinationConfig =
  | { readonly kind: 'lambda'; readonly functionArn: string; readonly spillover: boolean; readonly memoryMiB: number; readonly arm64: boolean }
  | { readonly kind: 'fargate' };

/** A dispatcher that picks Lambda or Fargate per job. */
export interface RouteTargetConfig {
  readonly kind: 'route';
  readonly rules: RouteRuleConfig[];
  /** Index into `destinations` of the jobs no rule matches. */
  readonly otherwise: number;
  readonly destinations: RouteDestinationConfig[];
  readonly ledger: LedgerConfig;
  readonly claimCheck?: ClaimCheckConfig;
  /** The bus of `Job Succeeded` / `Job Failed` events of Lambda runs (as the tracker's for tasks); none: no events. */
  readonly eventBusName?: string;
  /** The Fargate job's size, for the cost estimates of Lambda runs (what the run would have cost there). */
  readonly fargateShape?: { readonly cpuUnits: number; readonly memoryMiB: number; readonly arm64: boolean; readonly spot: boolean };
  /** The route's Fargate job (the `fargate` destination and the spillover target). */
  readonly fargate?: Omit<FargateJobTargetConfig, 'kind' | 'ledger' | 'claimCheck'>;
}

export type TargetConfig = FargateJobTargetConfig | WorkflowTargetConfig | RouteTargetConfig;

export interface DispatchConfig {
  readonly version: number;
  /** `startedBy` of every task, and the `hc:dispatcher` tag. */
  readonly startedBy: string;
  readonly deadLetterQueueUrl: string;
  /** After this many receives a failing record is dead-lettered with its reason. */
  readonly maxReceiveCount: number;
  /** Records (and so launches) in flight at once within one batch. */
  readonly launchConcurrency: number;
  /** URL of the dispatch queue: deferred records are carried over into it. */
  readonly dispatchQueueUrl: string;
  /** The queues the dispatcher consumes. */
  readonly queues: QueueConfig[];
  /** What each job launches. */
  readonly target: TargetConfig;
}
