/** The subset of an SQS event record the handlers read. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle?: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string; readonly SentTimestamp?: string; readonly [k: string]: string | undefined };
  readonly messageAttributes?: Record<string, unknown>;
  readonly eventSource?: string;
  readonly eventSourceARN: string;
  readonly awsRegion?: string;
}

export interface SqsEvent {
  readonly Records: SqsRecord[];
}

/** The partial batch response of an SQS event source with `ReportBatchItemFailures`. */
export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** The records of an event, or none when it has no list. */
export function recordsOf(event: SqsEvent | undefined): SqsRecord[] {
  return Array.isArray(event?.Records) ? event.Records : [];
}

/** The record's receive count (1 when SQS did not say). */
export function receiveCountOf(record: SqsRecord): number {
  return Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
}

/** When SQS first accepted the message (epoch ms), if it said. */
export function sentTimestampOf(record: SqsRecord): number | undefined {
  const sent = Number(record.attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? sent : undefined;
}
