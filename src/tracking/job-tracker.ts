import {
  Duration, aws_cloudwatch as cloudwatch, aws_ec2 as ec2, aws_events as events, aws_events_targets as targets, aws_iam as iam,
  aws_kms as kms, aws_lambda as lambda, aws_logs as logs, aws_sqs as sqs, Lazy, Stack,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { JobTrackingOptions, validateTracking } from './job-tracking';
import { RetryRule } from './retry-rule';
import { JobOutcome } from '../contract/job';
import { METRIC_NAMESPACE, TRACKER_CONFIG_ENV } from '../contract/names';
import { TRACKER_CONFIG_VERSION, TrackerConfig } from '../contract/tracker-config';
import { HandlerFunction } from '../internal/handler-function';
import { acknowledgeNag, acknowledgeWildcardResources, XRAY_WILDCARD } from '../internal/nag';
import { queueWithDeadLetter, secureQueue } from '../internal/secure-queue';
import { IFargateJob } from '../job/fargate-job';
import { clusterTasksPermission, listTasksPermission, toStatement } from '../job/grants';
import { ArrayFailurePolicy, JobArray } from '../job/job-array';
import { IJobLedger } from '../ledger/job-ledger';

/** Properties of a `JobTracker`. */
export interface JobTrackerProps extends JobTrackingOptions {
  /** The job whose tasks are tracked. */
  readonly job: IFargateJob;

  /** `startedBy` of the tasks to track (a `JobDispatcher`'s `startedBy`). */
  readonly startedBy: string;

  /**
   * The job ledger of the dispatcher whose tasks are tracked: the tracker
   * records each task's outcome there, once per task, and the steps it took
   * (retry enqueued, failed-job message sent, event published), so a
   * redelivered stop event repeats none of them.
   */
  readonly ledger: IJobLedger;

  /**
   * The queue retries are sent to: a dispatch queue of a `JobDispatcher` for
   * `job`, which relaunches them.
   * @default - no retries: every job that does not succeed goes to the failed-jobs queue
   */
  readonly retryQueue?: sqs.IQueue;

  /**
   * The dispatcher launches array jobs of this shape: the tracker counts
   * each child's final outcome into its parent and publishes one
   * `Array Job Completed` event per array job.
   * @default - single jobs
   */
  readonly array?: JobArray;

  /**
   * Retention of the tracker's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the tracker's log group (its policy must let CloudWatch Logs use it).
   * @default - CloudWatch Logs' service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Run the tracker function in this VPC (it then needs a NAT gateway or the
   * SQS, DynamoDB, EventBridge, ECS and X-Ray endpoints).
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` the tracker function runs in.
   * @default - the private subnets: with egress, or isolated when the VPC has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Reserve the tracker function's concurrency (its event source mapping's maximum, 2).
   * @default false
   */
  readonly reserveConcurrency?: boolean;
}

/** Options of the tracker's metrics. */
export interface JobMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only jobs with this outcome.
   * @default - every outcome
   */
  readonly outcome?: JobOutcome;
}

/**
 * Follows every task a dispatcher starts to its end: an EventBridge rule on
 * `ECS Task State Change` (STOPPED, this cluster, this `startedBy`) feeds an
 * encrypted queue that a tracker Lambda consumes. It classifies the outcome,
 * retries interrupted and failed-to-start jobs a bounded number of times,
 * sends the rest to a failed-jobs queue ready for redrive, publishes
 * `Job Succeeded` / `Job Failed` events and emits metrics. Retry rules
 * decide per exit code, reason or outcome; with a `timeout` it stops tasks
 * that run too long, with a `startTimeout` tasks that do not start.
 */
export class JobTracker extends Construct {
  /** Queue of the task state changes (and timeout sweeps) the tracker consumes. */
  public readonly queue: sqs.Queue;
  /** Where task state changes that could not be processed end. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Jobs that ended without success after their retries, ready for redrive (see README). */
  public readonly failedJobsQueue: sqs.Queue;
  public readonly function: lambda.Function;
  /** The tracked job. */
  public readonly job: IFargateJob;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** The rule on stopped tasks. */
  public readonly rule: events.Rule;
  /** Bus of the outcome events. */
  public readonly eventBus: events.IEventBus;
  public readonly startedBy: string;
  public readonly retryAttempts: number;
  public readonly retryableOutcomes: JobOutcome[];
  /** The retry rules, in the order they are evaluated. */
  public readonly retryRules: RetryRule[];

  constructor(scope: Construct, id: string, props: JobTrackerProps) {
    super(scope, id);
    validateTracking(props);
    this.job = props.job;
    this.startedBy = props.startedBy;
    this.retryAttempts = props.retryAttempts ?? 2;
    this.retryableOutcomes = props.retryableOutcomes ?? [JobOutcome.INTERRUPTED, JobOutcome.FAILED_TO_START, JobOutcome.START_TIMED_OUT];
    this.retryRules = props.retryRules ?? [];
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const timeout = Duration.seconds(30);

    const queues = queueWithDeadLetter(this, {
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      maxReceiveCount: 5,
      deadLetterPurpose: 'This queue is the dead-letter queue of the tracker queue and of its rule targets.',
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.failedJobsQueue = secureQueue(this, 'FailedJobsQueue', { retentionPeriod: Duration.days(14) });

    const handler = new HandlerFunction(this, {
      asset: 'tracking/tracker.lambda',
      description: `Tracks ${props.job.node.path} tasks to their outcome`,
      roleDescription: `Tracker of ${this.node.path}: classifies stopped tasks, retries, reports`,
      timeout,
      memorySize: 256,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      environment: { [TRACKER_CONFIG_ENV]: Lazy.string({ produce: () => this.renderConfig(props) }) },
      failedRecords: 'records that keep failing return to the tracker queue, whose redrive policy moves them to its dead-letter queue',
      purpose: `the tracker function of ${this.node.path}`,
      logEncryptionKey: props.logEncryptionKey,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      reserveConcurrency: props.reserveConcurrency,
    });
    this.function = handler.function;
    this.role = handler.role;
    this.logGroup = handler.logGroup;
    handler.consume(this.queue, { batchSize: 10, maxConcurrency: 2 });

    this.rule = new events.Rule(this, 'TaskStopped', {
      description: `Stopped tasks of ${props.job.node.path} started by ${props.startedBy}`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: { clusterArn: [props.job.cluster.clusterArn], lastStatus: ['STOPPED'], startedBy: [props.startedBy] },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });

    // Exactly what the handler calls.
    props.ledger.grantRecordJobs(this.role);
    this.failedJobsQueue.grantSendMessages(this.role);
    props.retryQueue?.grantSendMessages(this.role);
    this.eventBus.grantPutEventsTo(this.role);
    if (props.timeout || props.startTimeout) {
      const limits = [
        ...(props.startTimeout ? [`not running within ${props.startTimeout.toHumanString()}`] : []),
        ...(props.timeout ? [`running longer than ${props.timeout.toHumanString()}`] : []),
      ];
      new events.Rule(this, 'TimeoutSweep', {
        description: `Stops ${props.job.node.path} tasks ${limits.join(' or ')}`,
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
      });
      const cluster = props.job.cluster;
      this.role.addToPrincipalPolicy(toStatement(listTasksPermission(cluster)));
      this.role.addToPrincipalPolicy(toStatement(clusterTasksPermission(this, cluster, ['ecs:DescribeTasks', 'ecs:StopTask'])));
    }
    this.acknowledgeNagFindings();
  }

  /** Jobs whose task ended with success. */
  public metricJobsSucceeded(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('JobsSucceeded', { statistic: 'Sum', ...options });
  }

  /** Jobs that ended without success after their retries (optionally of one outcome). */
  public metricJobsFailed(options: JobMetricOptions = {}): cloudwatch.Metric {
    return this.metric('JobsFailed', { statistic: 'Sum', ...options });
  }

  /** Jobs relaunched by the tracker (optionally after one outcome). */
  public metricJobRetries(options: JobMetricOptions = {}): cloudwatch.Metric {
    return this.metric('JobRetries', { statistic: 'Sum', ...options });
  }

  /** Seconds from task start to stop. */
  public metricRunDuration(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('RunDuration', { statistic: 'p90', ...options });
  }

  /** Seconds from enqueue (when the event reached the dispatcher's queue) to task start. */
  public metricQueueToStart(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('QueueToStart', { statistic: 'p90', ...options });
  }

  /** Seconds from enqueue to task stop. */
  public metricQueueToStop(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('QueueToStop', { statistic: 'p90', ...options });
  }

  private metric(name: string, options: JobMetricOptions): cloudwatch.Metric {
    const { outcome, ...rest } = options;
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { Dispatcher: this.startedBy, ...(outcome ? { Outcome: outcome } : {}) },
      period: Duration.minutes(5),
      ...rest,
    });
  }

  private renderConfig(props: JobTrackerProps): string {
    const config: TrackerConfig = {
      version: TRACKER_CONFIG_VERSION,
      startedBy: props.startedBy,
      cluster: props.job.cluster.clusterArn,
      containerName: props.job.containerName,
      ...(props.retryQueue ? { dispatchQueueUrl: props.retryQueue.queueUrl } : {}),
      failedJobsQueueUrl: this.failedJobsQueue.queueUrl,
      retryAttempts: this.retryAttempts,
      retryableOutcomes: this.retryableOutcomes,
      ...(this.retryRules.length ? { retryRules: this.retryRules.map((r) => r._toConfig()) } : {}),
      ...(props.timeout ? { timeoutSeconds: props.timeout.toSeconds() } : {}),
      ...(props.startTimeout ? { startTimeoutSeconds: props.startTimeout.toSeconds() } : {}),
      eventBusName: this.eventBus.eventBusName,
      ...(props.array ? { arrays: { failParent: props.array.onChildFailure === ArrayFailurePolicy.FAIL_PARENT } } : {}),
      ledger: { table: props.ledger.table.tableName, ttlSeconds: props.ledger.timeToLive.toSeconds() },
    };
    return Stack.of(this).toJsonString(config);
  }

  private acknowledgeNagFindings(): void {
    acknowledgeWildcardResources(this.role.node.findChild('DefaultPolicy'), [
      XRAY_WILDCARD,
      {
        matches: (resource, actions) => resource === '*' && actions.length === 1 && actions[0] === 'ecs:ListTasks',
        reason: 'ecs:ListTasks (finding tasks past their timeout) takes no task resource; it is conditioned on ecs:cluster.',
      },
      {
        matches: (resource, actions) => actions.every((a) => a === 'ecs:DescribeTasks' || a === 'ecs:StopTask') && /:task\/[^/]+\/\*$/.test(resource),
        reason: 'The tracker describes and stops only tasks of the job\'s cluster (task/<cluster>/*, conditioned on ecs:cluster); task ids are unknown before launch.',
      },
    ]);
    acknowledgeNag(this.failedJobsQueue, [
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This queue is where jobs end after their retries: it is inspected and redriven, not consumed.',
      },
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is a terminal queue for failed jobs that people redrive; nothing consumes it, so it needs no dead-letter queue.',
      },
    ]);
  }
}
