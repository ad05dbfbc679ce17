/**
 * The keys of `job.fields` in a workflow's execution input: one per
 * source-specific `JobField`. S3 jobs carry the `s3.*` keys, SQS jobs the
 * `sqs.*` keys, EventBridge jobs the `eventbridge.*` keys (S3 events that
 * arrive through EventBridge carry both the `s3.*` and the `eventbridge.*`
 * keys). Every value is a string.
 */
export class JobFieldKey {
  /** The bucket name (S3 jobs). */
  public static readonly S3_BUCKET = 's3.bucket';
  /** The object key, URL-decoded (S3 jobs). */
  public static readonly S3_KEY = 's3.key';
  /** `s3://<bucket>/<key>` (S3 jobs). */
  public static readonly S3_URI = 's3.uri';
  /** The object size in bytes, as a string; empty when the event has none (S3 jobs). */
  public static readonly S3_SIZE = 's3.size';
  /** The object's ETag; empty when the event has none (S3 jobs). */
  public static readonly S3_ETAG = 's3.etag';
  /** The object's version id; empty for unversioned buckets (S3 jobs). */
  public static readonly S3_VERSION_ID = 's3.versionId';
  /** The event name without `s3:` (`ObjectCreated:Put`), or the EventBridge detail-type (`Object Created`) (S3 jobs). */
  public static readonly S3_EVENT_NAME = 's3.eventName';
  /** The raw message body (SQS jobs). */
  public static readonly SQS_BODY = 'sqs.body';
  /** The SQS message id (SQS jobs). */
  public static readonly SQS_MESSAGE_ID = 'sqs.messageId';
  /** The event's `detail` as JSON text (EventBridge jobs). */
  public static readonly EVENTBRIDGE_DETAIL = 'eventbridge.detail';
  /** The event's `detail-type` (EventBridge jobs). */
  public static readonly EVENTBRIDGE_DETAIL_TYPE = 'eventbridge.detailType';
  /** The event's `source` (EventBridge jobs). */
  public static readonly EVENTBRIDGE_SOURCE = 'eventbridge.source';

  private constructor() {}
}

/**
 * The input of an execution a `JobDispatcher` starts
 * (`DispatchTarget.workflow()`): `{ "job": { "id", "source", "fields", "event" } }`.
 * These are JSONPaths into it, for a step's `inputPath`, a job step's
 * `environment` or a `forEach` items path; a Lambda step receives the same
 * object (plus `steps`, the results so far) as its event.
 */
export class WorkflowInput {
  /** The job: `$.job`. */
  public static readonly JOB = '$.job';
  /** The deterministic job id (the execution is named after it): `$.job.id`. */
  public static readonly JOB_ID = '$.job.id';
  /** The source type: `s3`, `sqs` or `eventbridge`: `$.job.source`. */
  public static readonly JOB_SOURCE = '$.job.source';
  /** The fields of the job, by `JobFieldKey`: `$.job.fields`. */
  public static readonly JOB_FIELDS = '$.job.fields';
  /** The event: the S3 record, the parsed SQS body (or the raw body when it is not JSON), or the EventBridge event: `$.job.event`. */
  public static readonly JOB_EVENT = '$.job.event';
  /** The results of the steps so far, by step name: `$.steps`. */
  public static readonly STEPS = '$.steps';

  /** The JSONPath of one field: `WorkflowInput.field(JobFieldKey.S3_KEY)` is `$.job.fields['s3.key']`. */
  public static field(key: string): string {
    return `${WorkflowInput.JOB_FIELDS}['${key}']`;
  }

  private constructor() {}
}
