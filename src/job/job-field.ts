import { containsMarker, marker, parseJobPath } from '../contract/job-fields';

/**
 * Markers for values that are only known when a job runs.
 *
 * Like `events.EventField`, each factory returns a plain string that you can
 * put in a `FargateJob`'s `environment` values or `command` entries, alone or
 * inside a larger string (`s3://${...}`). The dispatcher resolves the markers
 * for every job it launches and passes the results as container overrides.
 *
 * Markers cannot be used where the dispatcher cannot override a value (image,
 * secrets, container name, family, source filters): synth fails there.
 */
export class JobField {
  /** The deterministic job id (also the `hc:job-id` task tag). */
  public static jobId(): string {
    return JobField.marker('job.id');
  }

  /** The kind of source the job came from: `s3`, `sqs` or `eventbridge`. */
  public static sourceType(): string {
    return JobField.marker('job.source');
  }

  /** Bucket name of an S3 job. */
  public static s3Bucket(): string {
    return JobField.marker('s3.bucket');
  }

  /** Object key of an S3 job, URL-decoded (the key exactly as stored in S3). */
  public static s3Key(): string {
    return JobField.marker('s3.key');
  }

  /** `s3://bucket/key` of an S3 job (the key is not re-encoded). */
  public static s3Uri(): string {
    return JobField.marker('s3.uri');
  }

  /** Object size in bytes of an S3 job, as a decimal string. */
  public static s3Size(): string {
    return JobField.marker('s3.size');
  }

  /** ETag of the object of an S3 job. */
  public static s3ETag(): string {
    return JobField.marker('s3.etag');
  }

  /** Version id of the object of an S3 job (empty when unversioned). */
  public static s3VersionId(): string {
    return JobField.marker('s3.versionId');
  }

  /** Event name of an S3 job (for example `ObjectCreated:Put`). */
  public static s3EventName(): string {
    return JobField.marker('s3.eventName');
  }

  /** The raw body of an SQS message consumed from an `SqsSource`. */
  public static body(): string {
    return JobField.marker('sqs.body');
  }

  /** The SQS message id of a job consumed from an `SqsSource`. */
  public static messageId(): string {
    return JobField.marker('sqs.messageId');
  }

  /** The `detail` of an EventBridge event, as JSON. */
  public static detail(): string {
    return JobField.marker('eventbridge.detail');
  }

  /** The `detail-type` of an EventBridge event. */
  public static detailType(): string {
    return JobField.marker('eventbridge.detailType');
  }

  /** The `source` of an EventBridge event. */
  public static eventSource(): string {
    return JobField.marker('eventbridge.source');
  }

  /**
   * The `s3://` URI of the job's claim-check document: a JSON object with the
   * job id, source, event and every mapped environment value (see README,
   * "Claim check"). Using this field makes the dispatcher write the document
   * for every job, so it needs the dispatcher's claim check (the default).
   */
  public static payloadUri(): string {
    return JobField.marker('job.payloadUri');
  }

  /**
   * The whole event as JSON: the EventBridge event, the SQS message body
   * (parsed when it is JSON), or the S3 notification record.
   */
  public static wholeEvent(): string {
    return JobField.marker('job.event');
  }

  /**
   * A value at a path in the event: `$.detail.orderId` for EventBridge,
   * `$.orderId` for a JSON SQS body, `$.s3.object.size` for an S3 record.
   * Objects and arrays are passed as JSON, scalars as strings.
   *
   * Supported syntax: `$`, `.name` and `[index]` / `['name']` steps.
   */
  public static fromPath(path: string): string {
    parseJobPath(path);
    return JobField.marker(`path:${path}`);
  }

  /** Whether a string contains at least one job field marker. */
  public static containsField(value: string): boolean {
    return containsMarker(value);
  }

  private static marker(field: string): string {
    return marker(field);
  }

  private constructor() {}
}
