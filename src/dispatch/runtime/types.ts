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

/** A record that can never launch: it is dead-lettered with this reason. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}
