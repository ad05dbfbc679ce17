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

/** A job launched again with the overrides of its last run (a tracker retry or a redrive). */
export interface Relaunch {
  readonly jobId: string;
  /** The run this launch is (1 = first run); retries count runs, not attempts. */
  readonly run: number;
  /** The container overrides of the earlier run (tracking entries are replaced). */
  readonly overrides?: { readonly containerOverrides: any[] };
}

/** The `hybridCompute` member of a dispatch-queue message that carries jobs. */
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

/** A record that can never launch: it is dead-lettered with this reason. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}
