import { createHash } from 'crypto';
import { PermanentError } from './errors';
import { resolveTemplate } from './input-mapping';
import type { QueueConfig } from '../../contract/dispatch-config';
import { ENVELOPE_KEY, ENVELOPE_VERSION, Envelope, Job, JobSourceType, Relaunch, SOURCE_TYPES } from '../../contract/job';
import { DLQ_ATTR_MESSAGE_ID, DLQ_ATTR_REASON, DLQ_ATTR_SOURCE } from '../../contract/names';
import { InvocationRecord, isInvocationRecord } from '../../contract/route';
import type { SqsRecord } from '../../internal/runtime/sqs';

export type NormalizeResult =
  | {
    readonly kind: 'jobs';
    readonly jobs: Job[];
    /** First attempt of the jobs' token chains (above 1 for carried-over or retried jobs). */
    readonly attempt: number;
    /** The run of a relaunch (1 otherwise). */
    readonly run?: number;
    /** Overrides to launch with as they are (a relaunch): no input mapping. */
    readonly overrides?: Relaunch['overrides'];
    /** Enqueue time carried by an envelope. */
    readonly enqueuedAt?: number;
  }
  | { readonly kind: 'skip'; readonly reason: string }
  /**
   * A Lambda worker's invocation record, sent back by its destination (a
   * routing dispatcher). `redriven`: it was dead-lettered with a reason and
   * moved back, which asks to run the job again.
   */
  | { readonly kind: 'lambda-outcome'; readonly invocation: InvocationRecord; readonly redriven: boolean };

/** Job ids that are already safe as tag values and env values are kept as is. */
const SAFE_ID = /^[A-Za-z0-9_.:@=+-]{1,128}$/;

/** A deterministic job id from a source-specific identity string. */
export function jobIdFrom(identity: string): string {
  if (SAFE_ID.test(identity)) {
    return identity;
  }
  return createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, 32);
}

/**
 * Decodes a key from the classic S3 notification format, where keys are
 * URL-encoded with `+` for spaces (`red flower.jpg` arrives as `red+flower.jpg`,
 * `a+b` as `a%2Bb`). The EventBridge format carries keys unencoded.
 */
export function decodeS3Key(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new PermanentError(`s3 object key '${truncate(encoded, 200)}' is not valid URL encoding`);
  }
}

/**
 * Turns one SQS record into the jobs it carries, or says why it carries none.
 * `sourceQueues` resolves the `hc-source-arn` attribute of a dispatch-queue
 * record: a message of an `SqsSource` queue that the dispatcher dead-lettered
 * (and someone moved back) or carried over keeps that attribute, and is read
 * as a message of its own queue.
 */
export function normalizeRecord(record: SqsRecord, queue: QueueConfig, sourceQueues?: ReadonlyMap<string, QueueConfig>): NormalizeResult {
  if (queue.outcomes) {
    const parsed = parseJson(record.body);
    if (!isInvocationRecord(parsed)) {
      throw new PermanentError('the outcome queue takes only the invocation records of the route\'s Lambda workers: this message is not one');
    }
    return { kind: 'lambda-outcome', invocation: parsed, redriven: messageAttribute(record, DLQ_ATTR_REASON) !== undefined };
  }
  if (!queue.dispatchQueue) {
    return { kind: 'jobs', jobs: [sqsJob(record, queue)], attempt: 1 };
  }
  const origin = messageAttribute(record, DLQ_ATTR_SOURCE);
  const source = origin ? sourceQueues?.get(origin) : undefined;
  if (source && !source.dispatchQueue) {
    // Its job id is the original message's (hc-message-id), not the copy's.
    const original = messageAttribute(record, DLQ_ATTR_MESSAGE_ID) ?? record.messageId;
    return { kind: 'jobs', jobs: [sqsJob({ ...record, messageId: original }, source)], attempt: 1 };
  }
  const body = parseJson(record.body);
  if (body === undefined) {
    throw new PermanentError(`message body is not JSON (${describeBody(record.body)})`);
  }
  if (isInvocationRecord(body)) {
    return { kind: 'lambda-outcome', invocation: body, redriven: messageAttribute(record, DLQ_ATTR_REASON) !== undefined };
  }
  return fromDispatchBody(unwrapSns(body));
}

function fromDispatchBody(body: any): NormalizeResult {
  if (!isObject(body)) {
    throw new PermanentError('message body is JSON but not an object');
  }
  if (ENVELOPE_KEY in body) {
    return fromEnvelope(body[ENVELOPE_KEY]);
  }
  if (body.Event === 's3:TestEvent') {
    return { kind: 'skip', reason: 's3 test event' };
  }
  if (Array.isArray(body.Records)) {
    if (body.Records.length === 0) {
      throw new PermanentError('s3 notification has no records');
    }
    return { kind: 'jobs', jobs: body.Records.map((r: unknown, i: number) => s3NotificationJob(r, i)), attempt: 1 };
  }
  if (typeof body['detail-type'] === 'string' && typeof body.source === 'string' && 'detail' in body) {
    return { kind: 'jobs', jobs: [eventBridgeJob(body)], attempt: 1 };
  }
  throw new PermanentError('message is neither an S3 notification nor an EventBridge event');
}

/** Jobs the dispatcher (or a tracker) enqueued itself, already normalized. */
function fromEnvelope(envelope: Partial<Envelope>): NormalizeResult {
  if (!isObject(envelope) || envelope.version !== ENVELOPE_VERSION) {
    throw new PermanentError(`'${ENVELOPE_KEY}' message has version ${JSON.stringify((envelope as any)?.version)}, expected ${ENVELOPE_VERSION}`);
  }
  const attempt = envelope.attempt;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) {
    throw new PermanentError(`'${ENVELOPE_KEY}' message has attempt ${JSON.stringify(attempt)}, expected a whole number from 1`);
  }
  const enqueuedAt = typeof envelope.enqueuedAt === 'number' && Number.isFinite(envelope.enqueuedAt) ? envelope.enqueuedAt : undefined;
  if (envelope.relaunch !== undefined) {
    return fromRelaunch(envelope.relaunch, attempt, enqueuedAt);
  }
  if (!Array.isArray(envelope.jobs) || envelope.jobs.length === 0) {
    throw new PermanentError(`'${ENVELOPE_KEY}' message has no jobs`);
  }
  const jobs = envelope.jobs.map((job, i) => {
    const valid = isObject(job) && typeof job.id === 'string' && job.id !== ''
      && SOURCE_TYPES.includes(job.source) && isObject(job.fields)
      && Object.values(job.fields).every((v) => typeof v === 'string');
    if (!valid) {
      throw new PermanentError(`'${ENVELOPE_KEY}' job ${i} is not a job (needs id, source and string fields)`);
    }
    return { id: job.id, source: job.source, fields: job.fields, event: job.event } as Job;
  });
  return { kind: 'jobs', jobs, attempt, enqueuedAt };
}

function fromRelaunch(relaunch: Partial<Relaunch>, attempt: number, enqueuedAt: number | undefined): NormalizeResult {
  if (!isObject(relaunch) || typeof relaunch.jobId !== 'string' || relaunch.jobId === '') {
    throw new PermanentError(`'${ENVELOPE_KEY}' relaunch has no job id`);
  }
  const run = relaunch.run;
  if (typeof run !== 'number' || !Number.isInteger(run) || run < 1) {
    throw new PermanentError(`'${ENVELOPE_KEY}' relaunch has run ${JSON.stringify(run)}, expected a whole number from 1`);
  }
  const overrides = relaunch.overrides;
  if (overrides !== undefined && !(isObject(overrides) && Array.isArray(overrides.containerOverrides))) {
    throw new PermanentError(`'${ENVELOPE_KEY}' relaunch overrides have no containerOverrides list`);
  }
  // The job's fields are not needed: its overrides were resolved when it first ran.
  const job: Job = { id: relaunch.jobId, source: JobSourceType.SQS, fields: {}, event: null };
  return { kind: 'jobs', jobs: [job], attempt, run, overrides: overrides ?? { containerOverrides: [] }, enqueuedAt };
}

function s3NotificationJob(record: any, index: number): Job {
  const where = `s3 notification record ${index}`;
  if (!isObject(record) || !isObject(record.s3)) {
    throw new PermanentError(`${where} has no 's3' object`);
  }
  if (typeof record.eventSource === 'string' && record.eventSource !== 'aws:s3') {
    throw new PermanentError(`${where} has eventSource '${truncate(record.eventSource, 64)}', expected 'aws:s3'`);
  }
  const bucket = record.s3.bucket?.name;
  const rawKey = record.s3.object?.key;
  if (typeof bucket !== 'string' || bucket === '') {
    throw new PermanentError(`${where} has no bucket name`);
  }
  if (typeof rawKey !== 'string' || rawKey === '') {
    throw new PermanentError(`${where} has no object key`);
  }
  const eventName = typeof record.eventName === 'string' ? record.eventName : '';
  return s3Job({
    bucket,
    key: decodeS3Key(rawKey),
    size: record.s3.object.size,
    etag: record.s3.object.eTag,
    versionId: record.s3.object.versionId,
    sequencer: record.s3.object.sequencer,
    eventName: eventName.startsWith('s3:') ? eventName.slice(3) : eventName,
    eventTime: record.eventTime,
    requestId: record.responseElements?.['x-amz-request-id'],
    event: record,
  });
}

function eventBridgeJob(event: any): Job {
  if (event.source === 'aws.s3' && isObject(event.detail) && isObject(event.detail.object) && isObject(event.detail.bucket)) {
    const { bucket, object } = event.detail;
    if (typeof bucket.name !== 'string' || bucket.name === '' || typeof object.key !== 'string' || object.key === '') {
      throw new PermanentError('s3 EventBridge event has no bucket name or object key');
    }
    const job = s3Job({
      bucket: bucket.name,
      key: object.key,
      size: object.size,
      etag: object.etag,
      versionId: object['version-id'],
      sequencer: object.sequencer,
      eventName: event['detail-type'],
      eventTime: event.time,
      requestId: event.detail['request-id'],
      event,
    });
    return { ...job, fields: { ...job.fields, ...eventBridgeFields(event) } };
  }
  if (typeof event.id !== 'string' || event.id === '') {
    throw new PermanentError('EventBridge event has no id');
  }
  return {
    id: jobIdFrom(event.id),
    source: JobSourceType.EVENTBRIDGE,
    fields: eventBridgeFields(event),
    event,
  };
}

function eventBridgeFields(event: any): Record<string, string> {
  return {
    'eventbridge.detail': JSON.stringify(event.detail ?? null),
    'eventbridge.detailType': event['detail-type'],
    'eventbridge.source': event.source,
  };
}

interface S3Object {
  readonly bucket: string;
  readonly key: string;
  readonly size?: unknown;
  readonly etag?: unknown;
  readonly versionId?: unknown;
  readonly sequencer?: unknown;
  readonly eventName: string;
  readonly eventTime?: unknown;
  readonly requestId?: unknown;
  readonly event: unknown;
}

function s3Job(o: S3Object): Job {
  const versionId = typeof o.versionId === 'string' ? o.versionId : '';
  const sequencer = typeof o.sequencer === 'string' ? o.sequencer : '';
  // Duplicate deliveries of one S3 event carry the same sequencer; a new write
  // to the same key carries a larger one. Both formats give the same identity.
  // Only PUT and DELETE events carry a sequencer: a restore, tagging, ACL,
  // lifecycle or replication event is told apart by its kind, time and
  // request id (two ObjectTagging:Put of one version are two jobs).
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const id = jobIdFrom(sequencer !== ''
    ? `s3|${o.bucket}|${o.key}|${versionId}|${sequencer}`
    : `s3|${o.bucket}|${o.key}|${versionId}||${o.eventName.toLowerCase().replace(/[^a-z]/g, '')}|${text(o.eventTime)}|${text(o.requestId)}`);
  return {
    id,
    source: JobSourceType.S3,
    fields: {
      's3.bucket': o.bucket,
      's3.key': o.key,
      's3.uri': `s3://${o.bucket}/${o.key}`,
      's3.size': typeof o.size === 'number' && Number.isFinite(o.size) ? String(o.size) : '',
      's3.etag': typeof o.etag === 'string' ? o.etag : '',
      's3.versionId': versionId,
      's3.eventName': o.eventName,
    },
    event: o.event,
  };
}

function sqsJob(record: SqsRecord, queue: QueueConfig): Job {
  const parsed = parseJson(record.body);
  const provisional: Job = {
    id: jobIdFrom(record.messageId),
    source: JobSourceType.SQS,
    fields: {
      'sqs.body': record.body,
      'sqs.messageId': record.messageId,
    },
    event: parsed === undefined ? record.body : parsed,
  };
  if (!queue.jobId) {
    return provisional;
  }
  const custom = resolveTemplate(queue.jobId, provisional);
  if (custom === '') {
    throw new PermanentError('the job id template resolved to an empty string');
  }
  return { ...provisional, id: jobIdFrom(custom) };
}

/** A string message attribute of a record (Lambda's SQS event spells them `stringValue`). */
export function messageAttribute(record: SqsRecord, name: string): string | undefined {
  const a = record.messageAttributes?.[name] as { stringValue?: unknown; StringValue?: unknown } | undefined;
  const v = a?.stringValue ?? a?.StringValue;
  return typeof v === 'string' ? v : undefined;
}

/** S3 notifications fanned out through SNS arrive wrapped in an SNS envelope. */
function unwrapSns(body: unknown): unknown {
  if (isObject(body) && body.Type === 'Notification' && typeof body.Message === 'string') {
    const inner = parseJson(body.Message);
    if (inner === undefined) {
      throw new PermanentError('SNS notification message is not JSON');
    }
    return inner;
  }
  return body;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeBody(body: string): string {
  return body.length === 0 ? 'empty' : `${body.length} characters, starts with ${JSON.stringify(truncate(body, 40))}`;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
