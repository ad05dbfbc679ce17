import { aws_s3 as s3, aws_s3_notifications as s3n, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IJobDispatcher, IJobSource, JobSourceConfig, JobSourceType } from './job-source';
import { acknowledgeCompliance, acknowledgeNag } from '../internal/nag';
import { JobField } from '../job/job-field';

/** Options of an `S3Source`. */
export interface S3SourceProps {
  /**
   * Only objects whose key starts with this prefix start jobs.
   * @default - every key
   */
  readonly prefix?: string;

  /**
   * Only objects whose key ends with this suffix start jobs.
   * @default - every key
   */
  readonly suffix?: string;

  /**
   * The S3 events that start jobs.
   * @default [s3.EventType.OBJECT_CREATED]
   */
  readonly events?: s3.EventType[];
}

/**
 * Starts a job for every matching object event of a bucket: S3 event
 * notifications into the dispatch queue (at least once, buffered, redrivable).
 */
export class S3Source implements IJobSource {
  constructor(private readonly bucket: s3.IBucket, private readonly props: S3SourceProps = {}) {
    for (const [name, value] of [['prefix', props.prefix], ['suffix', props.suffix]] as const) {
      if (value !== undefined && !Token.isUnresolved(value) && JobField.containsField(value)) {
        throw new Error(`JobField markers cannot be used in the S3Source ${name} ('${value}'): filters are fixed at deploy time`);
      }
    }
    if (props.events !== undefined && props.events.length === 0) {
      throw new Error('S3Source events must name at least one s3.EventType, or be left out for OBJECT_CREATED');
    }
  }

  public bind(scope: Construct, dispatcher: IJobDispatcher): JobSourceConfig {
    const filter: s3.NotificationKeyFilter = { prefix: this.props.prefix, suffix: this.props.suffix };
    const filters = filter.prefix !== undefined || filter.suffix !== undefined ? [filter] : [];
    const events = this.props.events ?? [s3.EventType.OBJECT_CREATED];
    checkOverlap(this.bucket, { owner: scope.node.path, events, prefix: filter.prefix, suffix: filter.suffix });
    for (const event of events) {
      this.bucket.addEventNotification(event, new s3n.SqsDestination(dispatcher.queue), ...filters);
    }
    acknowledgeNotificationsHandler(Stack.of(this.bucket), this.bucket);
    return { sourceTypes: [JobSourceType.S3] };
  }
}

/** A notification configuration an `S3Source` added to a bucket. */
interface BucketNotification {
  /** The path of the source's scope under its dispatcher. */
  readonly owner: string;
  readonly events: s3.EventType[];
  readonly prefix?: string;
  readonly suffix?: string;
}

/** The notifications the sources of this library added, per bucket (construct). */
const NOTIFICATIONS = new WeakMap<s3.IBucket, BucketNotification[]>();

/**
 * S3 rejects a notification configuration that overlaps another one on the
 * same bucket, whatever their destinations, when the deployment runs. Two
 * configurations overlap when their event types intersect
 * (`s3:ObjectCreated:*` includes `s3:ObjectCreated:Put`), their prefixes
 * overlap (one is a prefix of the other; none is the empty prefix) and their
 * suffixes overlap (one is a suffix of the other). Fail at synth instead.
 */
function checkOverlap(bucket: s3.IBucket, added: BucketNotification): void {
  const existing = NOTIFICATIONS.get(bucket) ?? [];
  const shared = (a: s3.EventType, b: s3.EventType) => a === b || (a.endsWith(':*') && b.startsWith(a.slice(0, -1))) || (b.endsWith(':*') && a.startsWith(b.slice(0, -1)));
  const unresolved = [added.prefix, added.suffix].some((v) => v !== undefined && Token.isUnresolved(v));
  const candidates = [...existing, added];
  for (let i = 0; i < added.events.length; i++) {
    for (let j = i + 1; j < added.events.length; j++) {
      if (shared(added.events[i], added.events[j])) {
        throw new Error(`the S3Source on ${bucket.node.path} lists the overlapping events ${added.events[i]} and ${added.events[j]}: `
          + 'S3 rejects overlapping notification configurations at deploy; keep only the broader one');
      }
    }
  }
  for (const other of unresolved ? [] : candidates.slice(0, -1)) {
    if ([other.prefix, other.suffix].some((v) => v !== undefined && Token.isUnresolved(v))) continue;
    const events = added.events.filter((e) => other.events.some((o) => shared(e, o)));
    const prefixes = (other.prefix ?? '').startsWith(added.prefix ?? '') || (added.prefix ?? '').startsWith(other.prefix ?? '');
    const suffixes = (other.suffix ?? '').endsWith(added.suffix ?? '') || (added.suffix ?? '').endsWith(other.suffix ?? '');
    if (events.length > 0 && prefixes && suffixes) {
      throw new Error(`the S3Source on ${bucket.node.path} (prefix '${added.prefix ?? ''}', suffix '${added.suffix ?? ''}', ${events.join(', ')}) overlaps `
        + `the notifications of ${other.owner} (prefix '${other.prefix ?? ''}', suffix '${other.suffix ?? ''}'): S3 rejects overlapping `
        + 'notification configurations on one bucket at deploy. Use prefixes (or suffixes) where neither is the start (end) of the other, '
        + 'different event types, or one dispatcher for both');
    }
  }
  NOTIFICATIONS.set(bucket, candidates);
}

/**
 * S3 notifications are configured by a CDK-provided singleton custom resource
 * (`BucketNotificationsHandler…`), whose role gets an inline policy per
 * bucket (`<bucket>/Notifications/HandlerPolicy`, CDK's construct, not the
 * bucket). Their findings are about CDK's own deployment-time handler, not
 * about choices a user makes, so they are acknowledged here, each with its
 * reason; the bucket itself is left alone.
 */
function acknowledgeNotificationsHandler(stack: Stack, bucket: s3.IBucket): void {
  const handlerPolicy = bucket.node.tryFindChild('Notifications')?.node.tryFindChild('HandlerPolicy');
  if (handlerPolicy) {
    acknowledgeCompliance(handlerPolicy, [{
      rule: 'IAMNoInlinePolicy',
      reason: 'CDK\'s BucketNotificationsHandler custom resource gets this inline policy to set the notification configuration of this bucket '
        + 'only (s3:PutBucketNotification), during deployments; CDK creates it, one per bucket.',
    }]);
  }
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    const role = child.node.tryFindChild('Role');
    if (!role) continue;
    acknowledgeNag(role, [{
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK\'s BucketNotificationsHandler custom resource writes its own logs with AWSLambdaBasicExecutionRole; it runs only during deployments.',
    }]);
  }
}
