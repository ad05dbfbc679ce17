import { aws_lambda as lambda, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { JobSourceType } from '../contract/job';

export { JobSourceType };

/** What a dispatcher exposes to the sources bound to it. */
export interface IJobDispatcher extends IConstruct {
  /** The queue every S3 and EventBridge source delivers into. */
  readonly queue: sqs.IQueue;
  /** Where records that can never launch end, with their reason. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The dispatcher Lambda function. */
  readonly function: lambda.IFunction;
}

/** What a source tells the dispatcher when it is bound. */
export interface JobSourceConfig {
  /** Source types of the jobs this source produces. */
  readonly sourceTypes: JobSourceType[];

  /**
   * A queue the dispatcher must consume directly (its messages are jobs).
   * @default - the source delivers into the dispatch queue
   */
  readonly queue?: sqs.IQueue;

  /**
   * For `queue`: a template with `JobField` markers whose value is the job id.
   * @default - the SQS message id
   */
  readonly jobId?: string;

  /**
   * For `queue`: the `maxReceiveCount` of its redrive policy. The dispatcher
   * dead-letters a record that still fails on that receive itself, with the
   * reason, before SQS would move it without one.
   * @default - the dispatcher's `maxReceiveCount`
   */
  readonly maxReceiveCount?: number;
}

/** An integration that delivers events to a `JobDispatcher`. */
export interface IJobSource {
  /**
   * Wires the source to the dispatcher.
   * @param scope a construct owned by the dispatcher for this source's resources
   * @param dispatcher the dispatcher
   */
  bind(scope: Construct, dispatcher: IJobDispatcher): JobSourceConfig;
}
