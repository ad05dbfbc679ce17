import { aws_s3 as s3, aws_s3_notifications as s3n, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IJobDispatcher, IJobSource, JobSourceConfig, JobSourceType } from './job-source';
import { acknowledgeNag } from '../internal/nag';
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

  public bind(_scope: Construct, dispatcher: IJobDispatcher): JobSourceConfig {
    const filter: s3.NotificationKeyFilter = { prefix: this.props.prefix, suffix: this.props.suffix };
    const filters = filter.prefix !== undefined || filter.suffix !== undefined ? [filter] : [];
    for (const event of this.props.events ?? [s3.EventType.OBJECT_CREATED]) {
      this.bucket.addEventNotification(event, new s3n.SqsDestination(dispatcher.queue), ...filters);
    }
    acknowledgeNotificationsHandler(Stack.of(this.bucket));
    return { sourceTypes: [JobSourceType.S3] };
  }
}

/**
 * S3 notifications are configured by a CDK-provided singleton custom resource
 * (`BucketNotificationsHandler…`). Its findings are about CDK's own
 * deployment-time handler, not about choices a user makes, so they are
 * acknowledged here, each with its reason.
 */
function acknowledgeNotificationsHandler(stack: Stack): void {
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
