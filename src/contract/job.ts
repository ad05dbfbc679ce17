/**
 * What a job is on the wire: the normalized job the dispatcher builds from an
 * event, and the envelope of jobs the library enqueues itself (carry-overs,
 * retries, failed-job redrives). Plain types and values only.
 */

/** The kind of job a source produces, which decides the `JobField`s that resolve. */
export enum JobSourceType {
  /** S3 object events (bucket, key, size, ...). */
  S3 = 's3',
  /** Messages of a user SQS queue (body, message id). */
  SQS = 'sqs',
  /** EventBridge events (detail, detail-type, source). */
  EVENTBRIDGE = 'eventbridge',
}

/** Every source type, as the strings that appear in jobs and envelopes. */
export const SOURCE_TYPES: ReadonlyArray<string> = [JobSourceType.S3, JobSourceType.SQS, JobSourceType.EVENTBRIDGE];

/** One unit of work, normalized from whatever source delivered it. */
export interface Job {
  /** Deterministic id: the same event always yields the same id. */
  readonly id: string;
  readonly source: JobSourceType;
  /** Named scalar fields that `JobField` markers resolve to (`s3.key`, ...). */
  readonly fields: Readonly<Record<string, string>>;
  /** The event that `JobField.fromPath()` / `wholeEvent()` read. */
  readonly event: unknown;
}

/**
 * Top-level key of a dispatch-queue message that carries already-normalized
 * jobs (a deferred record carried over, or a retry): `{ "hc": Envelope }`.
 */
export const ENVELOPE_KEY = 'hc';
export const ENVELOPE_VERSION = 1;

/** A job launched again with the overrides of its last run (a tracker retry or a redrive). */
export interface Relaunch {
  readonly jobId: string;
  /** The run this launch is (1 = first run); retries count runs, not attempts. */
  readonly run: number;
  /** The container overrides of the earlier run (tracking entries are replaced). */
  readonly overrides?: { readonly containerOverrides: any[] };
}

/** The `hc` member of a dispatch-queue message that carries jobs. */
export interface Envelope {
  readonly version: number;
  /** Already-normalized jobs (a carried-over record). */
  readonly jobs?: Job[];
  /** A job to launch again with known overrides. */
  readonly relaunch?: Relaunch;
  /** First attempt of the token chain: 1 for new jobs, higher for retries. */
  readonly attempt: number;
  /** When the job was first enqueued (epoch ms), kept so replays send identical parameters. */
  readonly enqueuedAt?: number;
  /** Why the jobs were (re-)enqueued, for people reading the queue. */
  readonly reason?: string;
}

/** How a job's task ended, as the tracker classifies it. */
export enum JobOutcome {
  /** The essential container exited with code 0 (whatever the sidecars did). */
  SUCCEEDED = 'SUCCEEDED',
  /** The essential container exited with a non-zero code, or the task stopped for another reason. */
  FAILED = 'FAILED',
  /** The task never ran the container: image pull, network or volume set-up failed (`TaskFailedToStart`). */
  FAILED_TO_START = 'FAILED_TO_START',
  /** Fargate Spot reclaimed the capacity (`SpotInterruption`, `TerminationNotice`). */
  INTERRUPTED = 'INTERRUPTED',
  /** Still running after the job's `timeout`: the tracker stopped it. */
  TIMED_OUT = 'TIMED_OUT',
  /** Not RUNNING within the job's `startTimeout` (stuck in PROVISIONING or PENDING): the tracker stopped it. */
  START_TIMED_OUT = 'START_TIMED_OUT',
}

/**
 * The input of a workflow execution a dispatcher starts:
 * `{ "job": { "id", "source", "fields", "event" } }`.
 */
export interface WorkflowInput {
  readonly job: Job;
}

/** Where a workflow reads the job from: the execution input, whatever state a step is in. */
export const WORKFLOW_JOB_PATH = '$$.Execution.Input.job';
