import {
  Duration, Lazy, aws_cloudwatch as cloudwatch, aws_ec2 as ec2, aws_events as events, aws_iam as iam, aws_kms as kms, aws_lambda as lambda,
  aws_logs as logs, aws_s3 as s3, Annotations, aws_sns as sns, aws_sqs as sqs, Stack, Token,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DispatchTarget, DispatchTargetBinding, sourceSpecificFields, unresolvableFields } from './dispatch-target';
import { IJobDispatcher, IJobSource, JobSourceType } from './job-source';
import { DISPATCH_CONFIG_VERSION, DispatchConfig, QueueConfig } from '../contract/dispatch-config';
import {
  DETAIL_TYPE_ARRAY_COMPLETED, DETAIL_TYPE_FAILED, DETAIL_TYPE_SUCCEEDED, DISPATCH_CONFIG_ENV, EVENT_SOURCE, METRIC_NAMESPACE, NAME_PREFIX, warningId,
} from '../contract/names';
import { AlarmFactory } from '../internal/alarms';
import { constructError, withPath } from '../internal/errors';
import { HandlerFunction } from '../internal/handler-function';
import { acknowledgeWildcardResources, XRAY_WILDCARD } from '../internal/nag';
import { queueWithDeadLetter } from '../internal/secure-queue';
import type { IJobLedger } from '../ledger/job-ledger';
import { JobTracker } from '../tracking/job-tracker';

/** Properties of a `JobDispatcher`. */
export interface JobDispatcherProps {
  /**
   * What every job starts: `DispatchTarget.fargateJob(job, options)` (a
   * Fargate task, with claim check, tracking and a running-task cap) or
   * `DispatchTarget.workflow(workflow)` (a Step Functions execution).
   */
  readonly target: DispatchTarget;

  /**
   * Sources of events. More can be added with `addSource()`.
   * @default - none: anything allowed to send to `queue` starts jobs
   */
  readonly sources?: IJobSource[];

  /**
   * Timeout of the dispatcher function.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the dispatcher function, in MiB.
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Records per invocation (1-10,000; above 10 needs `maxBatchingWindow`).
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long the event source mapping gathers records before invoking.
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Most concurrent dispatcher invocations per queue (2-1,000): caps the
   * RunTask rate the dispatcher can reach (Fargate allows 20 calls/s).
   * @default 5
   */
  readonly maxConcurrency?: number;

  /**
   * RunTask calls in flight at once within one invocation (1-50).
   * @default 10
   */
  readonly launchConcurrency?: number;

  /**
   * Receives of a record before it is dead-lettered with the last failure reason.
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Visibility timeout of the dispatch queue; at least 6 times `timeout`.
   * @default - 6 times `timeout`
   */
  readonly visibilityTimeout?: Duration;

  /**
   * How long undispatched events stay in the dispatch queue.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;

  /**
   * Retention of the dispatcher's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the dispatcher's and tracker's log groups (its policy must
   * let CloudWatch Logs use it; a key of this app gets that statement).
   * @default - CloudWatch Logs' service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Run the dispatcher and tracker functions in this VPC. They call only
   * AWS APIs, so the VPC needs a NAT gateway or the endpoints of what they
   * call: SQS, ECS, DynamoDB, X-Ray, EventBridge (tracker), S3 (claim
   * check), Lambda (a route), Step Functions (a workflow).
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` the functions run in.
   * @default - the private subnets: with egress, or isolated when the VPC has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Reserve the concurrency the dispatcher (the sum of its event source
   * mappings' `maxConcurrency`) and its tracker can use, so other functions
   * of the account cannot starve them. The reservation comes out of the
   * account's unreserved concurrency, which Lambda keeps at 100 or more.
   * @default false
   */
  readonly reserveConcurrency?: boolean;

  /**
   * Where alarm notifications go.
   * @default - the topic of a `ComplianceDefaults` aspect over this construct; else alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Age of the oldest record in the dispatch queue that raises an alarm.
   * @default Duration.minutes(15)
   */
  readonly oldestRecordAlarmThreshold?: Duration;

  /**
   * Share of finished jobs (over 15 minutes) that failed, from 0 to 1, that raises an alarm.
   * @default 0.1
   */
  readonly failureRateAlarmThreshold?: number;
}

/**
 * Turns events into work, reliably: every source lands in an encrypted,
 * SSL-only SQS queue with a dead-letter queue; a dispatcher Lambda starts its
 * target once per job (a Fargate task with a deterministic client token, or a
 * workflow execution named after the job, so a redelivered event does not
 * start twice) and returns exactly the records that did not launch; records
 * that can never launch go to the dead-letter queue with their reason.
 */
export class JobDispatcher extends Construct implements IJobDispatcher {
  public readonly queue: sqs.IQueue;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly function: lambda.IFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** What every job starts. */
  public readonly target: DispatchTarget;
  /** `startedBy` of every task this dispatcher launches (≤ 128 characters). */
  public readonly startedBy: string;
  /**
   * Bucket of the claim-check documents.
   * @default - none when the target has no claim check
   */
  public readonly claimCheckBucket?: s3.IBucket;
  /**
   * The tracker of this dispatcher's jobs.
   * @default - none when the target does not track its jobs
   */
  public readonly tracker?: JobTracker;
  /**
   * The job ledger (each job's attempts, task and outcome).
   * @default - none when the target keeps no ledger (a workflow: its executions are named after the job)
   */
  public readonly ledger?: IJobLedger;
  /** The alarms on this dispatcher (and its tracker). */
  public readonly alarms: cloudwatch.Alarm[];

  private readonly _sources: IJobSource[] = [];
  private readonly queueConfigs: QueueConfig[] = [];
  private readonly sourceTypes = new Set<JobSourceType>();
  private readonly handler: HandlerFunction;
  private readonly binding: DispatchTargetBinding;
  private readonly props: JobDispatcherProps;
  private readonly timeout: Duration;
  private readonly maxReceiveCount: number;
  private readonly launchConcurrency: number;
  private warnedWithoutSources = false;

  constructor(scope: Construct, id: string, props: JobDispatcherProps) {
    super(scope, id);
    this.props = props;
    if (!(props.target instanceof DispatchTarget)) {
      throw new Error(`${this.node.path} needs a target: DispatchTarget.fargateJob(job) or DispatchTarget.workflow(workflow)`);
    }
    this.target = props.target;
    const timeout = props.timeout ?? Duration.minutes(1);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    this.timeout = timeout;
    this.maxReceiveCount = maxReceiveCount;
    this.launchConcurrency = props.launchConcurrency ?? 10;
    withPath(this, () => validate(props, timeout, maxReceiveCount, this.launchConcurrency));

    const queues = queueWithDeadLetter(this, {
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      maxReceiveCount,
      deadLetterPurpose: 'This queue is the dead-letter queue of the dispatch queue: it is where failed records end and are inspected or redriven.',
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.startedBy = `${NAME_PREFIX}${this.node.addr.slice(0, 16)}`;

    this.handler = new HandlerFunction(this, {
      asset: this.target._asset,
      description: this.target._describe(),
      roleDescription: `Dispatcher of ${this.node.path}: starts ${this.target.subject.node.path} for every job`,
      timeout,
      memorySize: props.memorySize ?? 256,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      environment: { [DISPATCH_CONFIG_ENV]: Lazy.string({ produce: () => this.renderConfig() }) },
      failedRecords: 'failed records return to the queue, whose redrive policy and the dispatcher itself dead-letter them with a reason',
      purpose: `the dispatcher function of ${this.node.path}`,
      logEncryptionKey: props.logEncryptionKey,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      reserveConcurrency: props.reserveConcurrency,
    });
    this.function = this.handler.function;
    this.role = this.handler.role;
    this.logGroup = this.handler.logGroup;
    this.binding = this.target._bind(this, {
      path: this.node.path,
      role: this.role,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(timeout.toSeconds() * 6),
      maxReceiveCount,
      startedBy: this.startedBy,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      reserveConcurrency: props.reserveConcurrency,
    });
    this.deadLetterQueue.grantSendMessages(this.role);
    this.tracker = this.binding.tracker;
    this.ledger = this.binding.ledger;
    this.claimCheckBucket = this.binding.claimCheckBucket;
    this.alarms = this.createAlarms(props);
    this.consume(this.queue, { arn: this.queue.queueArn, dispatchQueue: true });
    if (this.binding.outcomeQueue) {
      this.consume(this.binding.outcomeQueue, { arn: this.binding.outcomeQueue.queueArn, dispatchQueue: true, outcomes: true });
    }

    for (const source of props.sources ?? []) {
      this.addSource(source);
    }
    this.node.addValidation({ validate: () => [...this.validateFields(), ...this.validateConfigSize()] });
    acknowledgeWildcardResources(this.role.node.findChild('DefaultPolicy'), [...this.binding.wildcards, XRAY_WILDCARD]);
  }

  /** The sources bound to this dispatcher. */
  public get sources(): IJobSource[] {
    return [...this._sources];
  }

  /** Binds another source of events. */
  public addSource(source: IJobSource): void {
    const scope = new Construct(this, `Source${this._sources.length}`);
    const config = withPath(this, () => source.bind(scope, this));
    if (config.queue) {
      if (this.queueConfigs.some((q) => q.arn === config.queue!.queueArn)) {
        throw new Error(`queue ${config.queue.node.path} is already a source of ${this.node.path}`);
      }
      withPath(this, () => checkSourceVisibility(config.queue!, this.timeout));
      this.consume(config.queue, {
        arn: config.queue.queueArn,
        dispatchQueue: false,
        ...(config.jobId ? { jobId: config.jobId } : {}),
        ...(config.maxReceiveCount !== undefined ? { maxReceiveCount: config.maxReceiveCount } : {}),
      });
    }
    this._sources.push(source);
    config.sourceTypes.forEach((t) => this.sourceTypes.add(t));
  }

  /**
   * A rule on this dispatcher's `Job Succeeded` events (one per job that
   * ended with success: tasks, and Lambda runs of a route), on the bus
   * the tracker publishes to. Give `options.target` or add targets to the
   * rule; `options.eventPattern` narrows it (e.g. `{ detail: { compute: ['lambda'] } }`).
   */
  public onJobSucceeded(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.onOutcomeEvent(id, DETAIL_TYPE_SUCCEEDED, 'onJobSucceeded', options);
  }

  /** A rule on this dispatcher's `Job Failed` events (one per job that ended without success, after its retries). */
  public onJobFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.onOutcomeEvent(id, DETAIL_TYPE_FAILED, 'onJobFailed', options);
  }

  /**
   * A rule on this dispatcher's `Array Job Completed` events: one per array
   * job, when its last child has its final outcome (`detail.status`,
   * `succeeded`, `failed`, `cancelled`, `size`).
   */
  public onArrayJobCompleted(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.onOutcomeEvent(id, DETAIL_TYPE_ARRAY_COMPLETED, 'onArrayJobCompleted', options);
  }

  private onOutcomeEvent(id: string, detailType: string, method: string, options: events.OnEventOptions): events.Rule {
    const bus = this.binding.eventBus;
    if (!bus) {
      throw new Error(`${this.node.path}: ${method}() needs the outcome events of a tracked Fargate job or a route: `
        + `this dispatcher's target (${this.target.kind}) publishes none${this.target.kind === 'fargateJob' ? ' with JobTracking.disabled()' : ''}`);
    }
    const rule = new events.Rule(this, id, {
      eventBus: bus,
      description: options.description ?? `${detailType} events of ${this.node.path}`,
      ...(options.ruleName ? { ruleName: options.ruleName } : {}),
      ...(options.crossStackScope ? { crossStackScope: options.crossStackScope } : {}),
      eventPattern: { source: [EVENT_SOURCE], detailType: [detailType], detail: { dispatcher: [this.startedBy] } },
    });
    if (options.eventPattern) rule.addEventPattern(options.eventPattern);
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  /** Records taken from the queues. */
  public metricRecordsReceived(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('RecordsReceived', options);
  }

  /** Jobs started (one task or execution per job). */
  public metricJobsLaunched(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('JobsLaunched', options);
  }

  /** Launch attempts that started nothing (capacity, throttling, errors): retried or relaunched. */
  public metricLaunchFailures(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('LaunchFailures', options);
  }

  /** Records the dispatcher sent to its dead-letter queue, with their reason. */
  public metricRecordsDeadLettered(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('RecordsDeadLettered', options);
  }

  /** Records left in the queue because `maxConcurrentTasks` was reached. */
  public metricRecordsDeferred(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('RecordsDeferred', options);
  }

  /**
   * Jobs a routing dispatcher sent to `compute`: `lambda`, `fargate`, or
   * `spillover` (Lambda runs relaunched on Fargate). Zero for other targets.
   */
  public metricJobsRouted(compute: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('JobsRouted', { ...options, dimensionsMap: { Dispatcher: this.startedBy, Compute: compute, ...options.dimensionsMap } });
  }

  /**
   * Estimated dollars of the jobs that ran on `compute` (`lambda`: from the
   * dispatcher, `fargate`: from the tracker), from the dated prices of
   * `ComputeCost` (us-east-1 list prices, before free tiers and Savings Plans).
   */
  public metricEstimatedCost(compute: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('EstimatedCost', { ...options, dimensionsMap: { Dispatcher: this.startedBy, Compute: compute, ...options.dimensionsMap } });
  }

  /**
   * What the jobs that ran on `compute` would have cost on the other model:
   * a Lambda run as a task of the route's Fargate job; a task's run on a
   * Lambda function of the task's memory (runs over 15 minutes not counted).
   */
  public metricEstimatedCostOtherModel(compute: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('EstimatedCostOtherModel', { ...options, dimensionsMap: { Dispatcher: this.startedBy, Compute: compute, ...options.dimensionsMap } });
  }

  private metric(name: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { Dispatcher: this.startedBy },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...options,
    });
  }

  private createAlarms(props: JobDispatcherProps): cloudwatch.Alarm[] {
    const rate = props.failureRateAlarmThreshold ?? 0.1;
    if (!Token.isUnresolved(rate) && (rate <= 0 || rate > 1)) {
      throw constructError(this, `failureRateAlarmThreshold must be above 0 and at most 1, got ${rate}`);
    }
    const age = props.oldestRecordAlarmThreshold ?? Duration.minutes(15);
    const alarms = new AlarmFactory(new Construct(this, 'Alarms'), this, props.alarmTopic);
    const depth = (queue: sqs.IQueue) => queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) });
    alarms.add('DeadLetters', 'records in the dead-letter queue (each has an hc-reason attribute)', depth(this.deadLetterQueue), 1);
    alarms.add('OldestRecord', `a record has waited in the dispatch queue for ${age.toHumanString()} or more`,
      this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }), age.toSeconds(), 3);
    alarms.add('DispatcherErrors', 'the dispatcher function failed (not a record: the whole invocation)',
      this.function.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }), 1);
    for (const fn of this.binding.functions ?? []) {
      // A record Lambda cannot deliver (over 256 KiB with the worker's response) never settles its run.
      alarms.add(`DestinationFailures${this.binding.functions!.indexOf(fn)}`,
        `${fn.node.path} could not deliver an invocation record to the outcome queue (its run is not settled: look at the worker's logs)`,
        fn.metric('DestinationDeliveryFailures', { statistic: 'Sum', period: Duration.minutes(5) }), 1);
    }
    const tracker = this.tracker;
    if (tracker) {
      alarms.add('FailedJobs', 'jobs in the failed-jobs queue (they ended without success after their retries)', depth(tracker.failedJobsQueue), 1);
      alarms.add('TrackerDeadLetters', 'task state changes the tracker could not process', depth(tracker.deadLetterQueue), 1);
      alarms.add('FailureRate', `${Math.round(rate * 100)}% or more of the jobs that ended in 15 minutes failed`, new cloudwatch.MathExpression({
        expression: 'IF(ok + failed > 0, failed / (ok + failed), 0)',
        usingMetrics: {
          ok: tracker.metricJobsSucceeded({ period: Duration.minutes(15) }),
          failed: tracker.metricJobsFailed({ period: Duration.minutes(15) }),
        },
        period: Duration.minutes(15),
        label: 'job failure rate',
      }), rate);
    }
    return alarms.alarms;
  }

  private consume(queue: sqs.IQueue, queueConfig: QueueConfig): void {
    this.queueConfigs.push(queueConfig);
    this.handler.consume(queue, {
      batchSize: this.props.batchSize ?? 10,
      maxBatchingWindow: this.props.maxBatchingWindow,
      maxConcurrency: this.props.maxConcurrency ?? 5,
    });
  }

  private renderConfig(): string {
    const config: DispatchConfig = {
      version: DISPATCH_CONFIG_VERSION,
      startedBy: this.startedBy,
      deadLetterQueueUrl: this.deadLetterQueue.queueUrl,
      maxReceiveCount: this.maxReceiveCount,
      launchConcurrency: this.launchConcurrency,
      dispatchQueueUrl: this.queue.queueUrl,
      queues: this.queueConfigs,
      target: this.binding.config(),
    };
    return Stack.of(this).toJsonString(config);
  }

  /** Every marker (the target's, and the SqsSource job id templates) must resolve for the jobs the sources produce. */
  private validateFields(): string[] {
    const sourceTypes = [...this.sourceTypes];
    const hasSources = this._sources.length > 0;
    const jobIds = this.queueConfigs.filter((q) => q.jobId).map((q) => ['an SqsSource jobId', q.jobId!] as [string, string]);
    if (!hasSources) {
      // Events sent into the dispatch queue by hand can be of any source type:
      // source-specific fields cannot be checked, and jobs without them are dead-lettered.
      const unchecked = sourceSpecificFields(this.binding.fieldTemplates());
      if (unchecked.length > 0 && !this.warnedWithoutSources) {
        this.warnedWithoutSources = true;
        Annotations.of(this).addWarningV2(warningId('job-dispatcher', 'fieldsWithoutSources'),
          `${this.node.path} has no sources, so the job fields its target uses cannot be checked at synth (${unchecked.join(', ')}): `
          + 'a job whose event does not carry a field is dead-lettered. Add the sources (sources or addSource()) that produce them; '
          + 'if you send events into the dispatch queue yourself, make sure they are of the matching kind');
      }
    }
    return [
      ...this.binding.validate(sourceTypes, hasSources),
      ...(hasSources ? unresolvableFields(jobIds, sourceTypes, this.node.path) : []),
    ];
  }

  /**
   * Lambda allows 4 KB of environment variables in total. The config holds
   * ARNs and ids that CloudFormation fills in, so their length is estimated
   * generously (128 characters each) to fail at synth, not at deploy.
   */
  private validateConfigSize(): string[] {
    const resolved = Stack.of(this).resolve(this.renderConfig());
    const parts: unknown[] = typeof resolved === 'string' ? [resolved] : resolved?.['Fn::Join']?.[1] ?? [];
    const estimate = DISPATCH_CONFIG_ENV.length + parts.reduce<number>((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : 128), 0);
    if (estimate > 4096) {
      return [`the dispatcher config for ${this.target.subject.node.path} is about ${estimate} bytes, over Lambda's 4 KB environment limit: `
        + 'shorten the environment templates of the job (fewer or shorter JobField entries), move static values into the task definition, '
        + 'or use fewer routing rules'];
    }
    return [];
  }
}

function validate(props: JobDispatcherProps, timeout: Duration, maxReceiveCount: number, launchConcurrency: number): void {
  const seconds = timeout.toSeconds();
  if (seconds < 1 || seconds > 900) {
    throw new Error(`timeout must be between 1 second and 15 minutes, got ${timeout.toHumanString()}`);
  }
  if (props.visibilityTimeout && !Token.isUnresolved(props.visibilityTimeout.toSeconds())
    && props.visibilityTimeout.toSeconds() < 6 * seconds) {
    throw new Error(`visibilityTimeout (${props.visibilityTimeout.toHumanString()}) must be at least 6 times the dispatcher timeout (${timeout.toHumanString()}): `
      + `set it to ${6 * seconds} seconds or more, or lower timeout`);
  }
  const batchSize = props.batchSize ?? 10;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    throw new Error(`batchSize must be a whole number from 1 to 10,000, got ${batchSize}`);
  }
  if (batchSize > 10 && !props.maxBatchingWindow) {
    throw new Error(`batchSize ${batchSize} is over 10: set maxBatchingWindow as well (SQS event sources need one above 10)`);
  }
  const maxConcurrency = props.maxConcurrency ?? 5;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
    throw new Error(`maxConcurrency must be a whole number from 2 to 1,000 (the SQS event source limits), got ${maxConcurrency}`);
  }
  if (!Number.isInteger(launchConcurrency) || launchConcurrency < 1 || launchConcurrency > 50) {
    throw new Error(`launchConcurrency must be a whole number from 1 to 50, got ${launchConcurrency}`);
  }
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new Error(`maxReceiveCount must be a whole number from 1 to 1,000, got ${maxReceiveCount}`);
  }
}

/** A consumed queue must hide a record for at least 6 function timeouts. */
function checkSourceVisibility(queue: sqs.IQueue, timeout: Duration): void {
  const cfn = queue.node.defaultChild;
  if (!(cfn instanceof sqs.CfnQueue)) return;
  const visibility = Stack.of(queue).resolve(cfn.visibilityTimeout) ?? 30;
  if (typeof visibility === 'number' && visibility < 6 * timeout.toSeconds()) {
    throw new Error(`queue ${queue.node.path} has a visibility timeout of ${visibility} seconds; a job source needs at least 6 times `
      + `the dispatcher timeout (${6 * timeout.toSeconds()} seconds): raise its visibilityTimeout`);
  }
}
