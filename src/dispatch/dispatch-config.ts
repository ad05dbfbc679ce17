/**
 * The contract between the `JobDispatcher` construct and its Lambda handler.
 * The construct renders it as JSON into the `HC_DISPATCH_CONFIG` environment
 * variable; the handler parses and validates it once per container. Not part
 * of the public API.
 */

/** Environment variable that carries the JSON config. */
export const DISPATCH_CONFIG_ENV = 'HC_DISPATCH_CONFIG';

/** Current config schema version; the handler rejects others. */
export const DISPATCH_CONFIG_VERSION = 1;

/** ECS limit on the serialized `overrides` of one RunTask call. */
export const MAX_OVERRIDES_CHARS = 8192;

/** Task tag keys written on every launched task. */
export const TAG_JOB_ID = 'hybrid-compute:job-id';
export const TAG_DISPATCHER = 'hybrid-compute:dispatcher';
export const TAG_ATTEMPT = 'hybrid-compute:attempt';

/**
 * Environment variable set on a task whose mapped values did not fit the
 * RunTask overrides: the `s3://` URI of its claim-check document.
 */
export const PAYLOAD_URI_ENV = 'HC_PAYLOAD_URI';

/** Version of the claim-check document (see README, "Claim check"). */
export const CLAIM_CHECK_DOCUMENT_VERSION = 1;

/**
 * Top-level key of a dispatch-queue message that carries already-normalized
 * jobs (a deferred record carried over, or a retry): `{ hybridCompute: Envelope }`.
 */
export const ENVELOPE_KEY = 'hybridCompute';
export const ENVELOPE_VERSION = 1;

/**
 * Environment entries the dispatcher adds to every launch when tracking is on:
 * they identify the job to the container and to the tracker (ECS Task State
 * Change events carry the overrides, not the tags).
 */
export const ENV_JOB_ID = 'HC_JOB_ID';
export const ENV_RUN = 'HC_RUN';
export const ENV_ATTEMPT = 'HC_ATTEMPT';
export const ENV_ENQUEUED_AT = 'HC_ENQUEUED_AT';
export const TRACKING_ENV = [ENV_JOB_ID, ENV_RUN, ENV_ATTEMPT, ENV_ENQUEUED_AT];
/** Bytes of the overrides kept free for the tracking entries. */
export const TRACKING_ENV_RESERVE = 320;

/** Message attributes on records the dispatcher dead-letters. */
export const DLQ_ATTR_REASON = 'hc-reason';
export const DLQ_ATTR_SOURCE = 'hc-source-arn';
export const DLQ_ATTR_MESSAGE_ID = 'hc-message-id';
export const DLQ_ATTR_RECEIVE_COUNT = 'hc-receive-count';

export type JobSourceKind = 's3' | 'sqs' | 'eventbridge';

/** How records from one queue are read. */
export interface QueueConfig {
  /** ARN of the queue (the `eventSourceARN` of its records). */
  readonly arn: string;
  /**
   * `dispatch`: the dispatcher's own queue, carrying S3 notifications and
   * EventBridge events; `sqs`: a user queue whose messages are jobs.
   */
  readonly kind: 'dispatch' | 'sqs';
  /** For `sqs` queues: a template (with markers) whose value is the job id. */
  readonly jobId?: string;
}

export interface CapacityProviderItem {
  readonly capacityProvider: string;
  readonly weight?: number;
  readonly base?: number;
}

export interface JobLaunchConfig {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly family: string;
  readonly containerName: string;
  readonly subnets: string[];
  readonly securityGroups: string[];
  readonly launchType?: 'FARGATE';
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

export interface DispatchConfig {
  readonly version: number;
  /** `startedBy` of every task, and the `hybrid-compute:dispatcher` tag. */
  readonly startedBy: string;
  readonly deadLetterQueueUrl: string;
  /** After this many receives a failing record is dead-lettered with its reason. */
  readonly maxReceiveCount: number;
  /** RunTask calls in flight at once within one batch. */
  readonly launchConcurrency: number;
  /** URL of the dispatch queue: deferred records are carried over into it. */
  readonly dispatchQueueUrl: string;
  /**
   * Most tasks started by this dispatcher that may be running at once; the
   * rest of a batch stays in the queue.
   */
  readonly maxConcurrentTasks?: number;
  readonly claimCheck?: ClaimCheckConfig;
  /** Adds the HC_JOB_ID / HC_RUN / HC_ATTEMPT / HC_ENQUEUED_AT entries to every launch. */
  readonly tracking?: boolean;
  /** The queues the dispatcher consumes. */
  readonly queues: QueueConfig[];
  /** The Fargate job each record launches (exclusive with `workflow`). */
  readonly job?: JobLaunchConfig;
  /** The state machine each record starts an execution of (exclusive with `job`). */
  readonly workflow?: WorkflowConfig;
}

/** Where a workflow dispatcher starts executions. */
export interface WorkflowConfig {
  readonly stateMachineArn: string;
}

/** Step Functions' limit on an execution's input. */
export const MAX_EXECUTION_INPUT_BYTES = 262144;
