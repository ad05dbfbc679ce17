import type { JobSourceKind } from '../dispatch-config';

/** The subset of an SQS event record the dispatcher reads. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle?: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string; readonly [k: string]: string | undefined };
  readonly messageAttributes?: Record<string, unknown>;
  readonly eventSource?: string;
  readonly eventSourceARN: string;
  readonly awsRegion?: string;
}

export interface SqsEvent {
  readonly Records: SqsRecord[];
}

export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** One unit of work, normalized from whatever source delivered it. */
export interface Job {
  /** Deterministic id: the same event always yields the same id. */
  readonly id: string;
  readonly source: JobSourceKind;
  /** Named scalar fields that `JobField` markers resolve to. */
  readonly fields: Readonly<Record<string, string>>;
  /** The event that `JobField.fromPath()` / `wholeEvent()` read. */
  readonly event: unknown;
}

/** The `hybridCompute` member of a dispatch-queue message that carries jobs. */
export interface Envelope {
  readonly version: number;
  readonly jobs: Job[];
  /** First attempt of the jobs' token chains: 1 for new jobs, higher for retries. */
  readonly attempt: number;
  /** Why the jobs were (re-)enqueued, for people reading the queue. */
  readonly reason?: string;
}

/** A record that can never launch: it is dead-lettered with this reason. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}
