import { aws_lambda as lambda, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { IFargateJob } from '../job/fargate-job';

/** The kind of job a source produces, which decides the `JobField`s that resolve. */
export enum JobSourceType {
  /** S3 object events (bucket, key, size, ...). */
  S3 = 's3',
  /** Messages of a user SQS queue (body, message id). */
  SQS = 'sqs',
  /** EventBridge events (detail, detail-type, source). */
  EVENTBRIDGE = 'eventbridge',
}

/** What a dispatcher exposes to the sources bound to it. */
export interface IJobDispatcher extends IConstruct {
  /** The queue every S3 and EventBridge source delivers into. */
  readonly queue: sqs.IQueue;
  /** Where records that can never launch end, with their reason. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The dispatcher Lambda function. */
  readonly function: lambda.IFunction;
  /**
   * The job this dispatcher launches.
   * @default - none when it starts a workflow
   */
  readonly job?: IFargateJob;
}

/** What a source tells the dispatcher when it is bound. */
export interface JobSourceConfig {
  /** Kinds of job this source produces. */
  readonly jobTypes: JobSourceType[];

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
