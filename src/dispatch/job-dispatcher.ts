import * as path from 'path';
import {
  Duration, Lazy, aws_cloudwatch as cloudwatch, aws_cloudwatch_actions as cloudwatch_actions, aws_iam as iam,
  aws_lambda as lambda, aws_lambda_event_sources as sources, aws_logs as logs, aws_s3 as s3, aws_sns as sns,
  aws_sqs as sqs, RemovalPolicy, Stack, Token,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ClaimCheck, ClaimCheckBinding } from './claim-check';
import { DISPATCH_CONFIG_ENV, DISPATCH_CONFIG_VERSION, DispatchConfig, QueueConfig } from './dispatch-config';
import { IJobDispatcher, IJobSource, JobSourceType } from './job-source';
import { METRIC_NAMESPACE } from '../internal/metrics';
import { acknowledgeNag, acknowledgeWildcardResources, WildcardReason, XRAY_WILDCARD } from '../internal/nag';
import { IFargateJob } from '../job/fargate-job';
import { FIELD_SOURCES, fieldsIn } from '../job/job-field';
import { JobTracker } from '../tracking/job-tracker';
import { JobTracking } from '../tracking/job-tracking';
import type { IJobWorkflow } from '../workflow/job-workflow';

/** Properties of a `JobDispatcher`. */
export interface JobDispatcherProps {
  /**
   * The job launched for every event. Give `job` or `workflow`.
   * @default - none: `workflow` is required
   */
  readonly job?: IFargateJob;

  /**
   * A workflow started for every event (one execution per job, named after
   * the job id). Give `job` or `workflow`; a workflow dispatcher has no
   * tracker, claim check or task cap (the workflow runs its own jobs).
   * @default - none: `job` is required
   */
  readonly workflow?: IJobWorkflow;

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
   * Most tasks started by this dispatcher that may be running (or starting)
   * at once. Before each batch the dispatcher counts them (`ecs:ListTasks`
   * by `startedBy`) and leaves the records it has no room for in the queue.
   * A soft cap: concurrent invocations count independently, so it can be
   * exceeded by up to (`maxConcurrency` - 1) x `batchSize` tasks.
   * @default - no cap
   */
  readonly maxConcurrentTasks?: number;

  /**
   * Where job input that does not fit the 8,192-character RunTask overrides
   * goes: `ClaimCheck.s3()` writes it to an S3 document whose URI reaches
   * the container in `HC_PAYLOAD_URI`; `ClaimCheck.disabled()` dead-letters
   * such jobs with the reason.
   * @default ClaimCheck.s3() - a new encrypted, SSL-only bucket whose documents expire after 7 days
   */
  readonly claimCheck?: ClaimCheck;

  /**
   * Whether jobs are followed to their outcome: `JobTracking.enabled()`
   * creates a `JobTracker` (outcomes, bounded retries, failed-jobs queue,
   * `Job Succeeded` / `Job Failed` events, metrics) and puts HC_JOB_ID,
   * HC_RUN, HC_ATTEMPT and HC_ENQUEUED_AT into every task's environment.
   * @default JobTracking.enabled() - 2 retries of interrupted and failed-to-start jobs, no timeout
   */
  readonly tracking?: JobTracking;

  /**
   * Where alarm notifications go.
   * @default - alarms have no actions
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
 * Turns events into Fargate task launches, reliably: every source lands in an
 * encrypted, SSL-only SQS queue with a dead-letter queue; a dispatcher Lambda
 * launches one task per job with a deterministic client token (so a
 * redelivered event does not launch twice) and returns exactly the records
 * that did not launch; records that can never launch go to the dead-letter
 * queue with their reason.
 */
export class JobDispatcher extends Construct implements IJobDispatcher {
  public readonly queue: sqs.IQueue;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly function: lambda.IFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /**
   * The job this dispatcher launches.
   * @default - none for a workflow dispatcher
   */
  public readonly job?: IFargateJob;
  /**
   * The workflow this dispatcher starts.
   * @default - none for a job dispatcher
   */
  public readonly workflow?: IJobWorkflow;
  /** `startedBy` of every task this dispatcher launches (≤ 128 characters). */
  public readonly startedBy: string;
  /**
   * Bucket of the claim-check documents.
   * @default - none when the claim check is disabled
   */
  public readonly claimCheckBucket?: s3.IBucket;
  /**
   * The tracker of this dispatcher's jobs.
   * @default - none when tracking is disabled
   */
  public readonly tracker?: JobTracker;
  /** The alarms on this dispatcher (and its tracker). */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly _sources: IJobSource[] = [];
  private readonly queueConfigs: QueueConfig[] = [];
  private readonly jobTypes = new Set<JobSourceType>();
  private readonly props: JobDispatcherProps;
  private readonly timeout: Duration;
  private readonly maxReceiveCount: number;
  private readonly launchConcurrency: number;
  private readonly claimCheck?: ClaimCheckBinding;

  constructor(scope: Construct, id: string, props: JobDispatcherProps) {
    super(scope, id);
    this.props = props;
    if (!props.job === !props.workflow) {
      throw new Error('a JobDispatcher needs exactly one of job (a Fargate job per event) and workflow (an execution per event)');
    }
    if (props.workflow) {
      for (const [name, given] of [['claimCheck', props.claimCheck?.enabled], ['maxConcurrentTasks', props.maxConcurrentTasks],
        ['tracking', props.tracking?.tracksJobs]] as const) {
        if (given) throw new Error(`${name} applies to job dispatchers; the workflow of ${this.node.path} runs its own jobs: remove ${name}`);
      }
    }
    this.job = props.job;
    this.workflow = props.workflow;
    const timeout = props.timeout ?? Duration.minutes(1);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    this.timeout = timeout;
    this.maxReceiveCount = maxReceiveCount;
    this.launchConcurrency = props.launchConcurrency ?? 10;
    validate(props, timeout, maxReceiveCount, this.launchConcurrency);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Dispatcher of ${this.node.path}: ${props.job ? 'launches its job\'s tasks' : 'starts its workflow\'s executions'}`,
    });
    this.startedBy = `hc-${this.node.addr.slice(0, 16)}`;

    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'dispatch', props.job ? 'dispatcher.lambda' : 'workflow-dispatcher.lambda')),
      timeout,
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      description: props.job ? `Launches ${props.job.node.path} tasks for queued events` : `Starts ${props.workflow!.node.path} for queued events`,
      environment: {
        [DISPATCH_CONFIG_ENV]: Lazy.string({ produce: () => this.renderConfig() }),
      },
    });

    this.logGroup.grantWrite(this.role);
    props.job?.grantRun(this.role);
    props.workflow?.stateMachine.grantStartExecution(this.role);
    this.deadLetterQueue.grantSendMessages(this.role);
    if (props.job && props.maxConcurrentTasks !== undefined) {
      // Counting running tasks, and carrying deferred records over into the queue.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': props.job.cluster.clusterArn } },
      }));
      this.queue.grantSendMessages(this.role);
    }
    this.claimCheck = props.job ? (props.claimCheck ?? ClaimCheck.s3())._bind(this) : undefined;
    if (this.claimCheck) {
      this.claimCheckBucket = this.claimCheck.bucket;
      this.grantClaimCheck(this.claimCheck);
    }
    const tracking = props.tracking ?? (props.job ? JobTracking.enabled() : JobTracking.disabled());
    if (props.job && tracking.tracksJobs) {
      this.tracker = new JobTracker(this, 'Tracker', {
        ...tracking.options, job: props.job, startedBy: this.startedBy, retryQueue: this.queue, logRetention: props.logRetention,
      });
    }
    this.createAlarms(props);
    this.consume(this.queue, { arn: this.queue.queueArn, kind: 'dispatch' });

    for (const source of props.sources ?? []) {
      this.addSource(source);
    }
    this.node.addValidation({ validate: () => [...this.validateFields(), ...this.validateConfigSize()] });
    this.acknowledgeNagFindings();
  }

  /** The sources bound to this dispatcher. */
  public get sources(): IJobSource[] {
    return [...this._sources];
  }

  /** Binds another source of events. */
  public addSource(source: IJobSource): void {
    const scope = new Construct(this, `Source${this._sources.length}`);
    const config = source.bind(scope, this);
    if (config.queue) {
      if (this.queueConfigs.some((q) => q.arn === config.queue!.queueArn)) {
        throw new Error(`queue ${config.queue.node.path} is already a source of ${this.node.path}`);
      }
      checkSourceVisibility(config.queue, this.timeout);
      this.consume(config.queue, { arn: config.queue.queueArn, kind: 'sqs', jobId: config.jobId });
    }
    this._sources.push(source);
    config.jobTypes.forEach((t) => this.jobTypes.add(t));
  }

  /** Records taken from the queues. */
  public metricRecordsReceived(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('RecordsReceived', options);
  }

  /** Tasks started (one per job). */
  public metricJobsLaunched(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('JobsLaunched', options);
  }

  /** Launch attempts that started no task (capacity, throttling, errors): retried or relaunched. */
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

  private createAlarms(props: JobDispatcherProps): void {
    const rate = props.failureRateAlarmThreshold ?? 0.1;
    if (!Token.isUnresolved(rate) && (rate <= 0 || rate > 1)) {
      throw new Error(`failureRateAlarmThreshold must be above 0 and at most 1, got ${rate}`);
    }
    const age = props.oldestRecordAlarmThreshold ?? Duration.minutes(15);
    const scope = new Construct(this, 'Alarms');
    const add = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number, periods = 1) => {
      const alarm = new cloudwatch.Alarm(scope, id, {
        alarmDescription: `${this.node.path}: ${description}`,
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) alarm.addAlarmAction(new cloudwatch_actions.SnsAction(props.alarmTopic));
      this.alarms.push(alarm);
    };
    const depth = (queue: sqs.IQueue) => queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) });
    add('DeadLetters', 'records in the dead-letter queue (each has an hc-reason attribute)', depth(this.deadLetterQueue), 1);
    add('OldestRecord', `a record has waited in the dispatch queue for ${age.toHumanString()} or more`,
      this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }), age.toSeconds(), 3);
    add('DispatcherErrors', 'the dispatcher function failed (not a record: the whole invocation)',
      this.function.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }), 1);
    if (this.tracker) {
      add('FailedJobs', 'jobs in the failed-jobs queue (they ended without success after their retries)', depth(this.tracker.failedJobsQueue), 1);
      add('TrackerDeadLetters', 'task state changes the tracker could not process', depth(this.tracker.deadLetterQueue), 1);
      add('FailureRate', `${Math.round(rate * 100)}% or more of the jobs that ended in 15 minutes failed`, new cloudwatch.MathExpression({
        expression: 'IF(ok + failed > 0, failed / (ok + failed), 0)',
        usingMetrics: {
          ok: this.tracker.metricJobsSucceeded({ period: Duration.minutes(15) }),
          failed: this.tracker.metricJobsFailed({ period: Duration.minutes(15) }),
        },
        period: Duration.minutes(15),
        label: 'job failure rate',
      }), rate);
    }
  }

  /** The dispatcher writes, and the job's task role reads, documents under the prefix only. */
  private grantClaimCheck({ bucket, prefix }: ClaimCheckBinding): void {
    const objects = bucket.arnForObjects(`${prefix}*`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
    // SSE-KMS PutObject needs a data key, nothing more (a single-part PUT).
    bucket.encryptionKey?.grant(this.role, 'kms:GenerateDataKey');
    const job = this.job!;
    iam.Grant.addToPrincipal({ grantee: job.taskRole, actions: ['s3:GetObject'], resourceArns: [objects] });
    bucket.encryptionKey?.grantDecrypt(job.taskRole);
    const taskPolicy = job.taskRole.node.tryFindChild('DefaultPolicy');
    if (taskPolicy) {
      acknowledgeWildcardResources(taskPolicy, [claimCheckWildcard(prefix, 's3:GetObject')]);
    }
  }

  private consume(queue: sqs.IQueue, queueConfig: QueueConfig): void {
    this.queueConfigs.push(queueConfig);
    this.function.addEventSource(new sources.SqsEventSource(queue, {
      batchSize: this.props.batchSize ?? 10,
      maxBatchingWindow: this.props.maxBatchingWindow,
      maxConcurrency: this.props.maxConcurrency ?? 5,
      reportBatchItemFailures: true,
    }));
  }

  private renderConfig(): string {
    const job = this.job;
    const config: DispatchConfig = {
      version: DISPATCH_CONFIG_VERSION,
      startedBy: this.startedBy,
      deadLetterQueueUrl: this.deadLetterQueue.queueUrl,
      maxReceiveCount: this.maxReceiveCount,
      launchConcurrency: this.launchConcurrency,
      dispatchQueueUrl: this.queue.queueUrl,
      ...(this.props.maxConcurrentTasks !== undefined ? { maxConcurrentTasks: this.props.maxConcurrentTasks } : {}),
      ...(this.tracker ? { tracking: true } : {}),
      ...(this.claimCheck ? {
        claimCheck: {
          bucket: this.claimCheck.bucket.bucketName,
          endpoint: `https://${this.claimCheck.bucket.bucketRegionalDomainName}`,
          prefix: this.claimCheck.prefix,
        },
      } : {}),
      queues: this.queueConfigs,
      ...(this.workflow ? { workflow: { stateMachineArn: this.workflow.stateMachine.stateMachineArn } } : {}),
      ...(job ? {
        job: {
          cluster: job.cluster.clusterArn,
          taskDefinition: job.taskDefinition.taskDefinitionArn,
          family: job.taskDefinition.family,
          containerName: job.containerName,
          subnets: job.subnetIds,
          securityGroups: job.securityGroups.map((sg) => sg.securityGroupId),
          ...(job.capacity.strategy
            ? { capacityProviderStrategy: job.capacity.strategy.map((s) => ({ ...s })) }
            : { launchType: 'FARGATE' as const }),
          ...(job.capacity.fallbackToOnDemand ? { fallbackToOnDemand: true } : {}),
          environment: job.launchEnvironment,
          ...(job.launchCommand ? { command: job.launchCommand } : {}),
        },
      } : {}),
    };
    return Stack.of(this).toJsonString(config);
  }

  /** Every marker must be resolvable for the kinds of job the sources produce. */
  private validateFields(): string[] {
    const errors: string[] = [];
    if (!this.job) return errors; // a workflow maps its input itself
    const mapped = [...Object.values(this.job.launchEnvironment), ...(this.job.launchCommand ?? [])];
    if (!this.claimCheck && mapped.some((t) => fieldsIn(t).includes('job.payloadUri'))) {
      errors.push(`the job ${this.job.node.path} uses JobField.payloadUri(), but the claim check of ${this.node.path} is disabled: `
        + 'use ClaimCheck.s3() (the default) or remove the field');
    }
    if (this._sources.length === 0) {
      return errors;
    }
    const templates: Array<[string, string]> = [
      ...Object.entries(this.job.launchEnvironment).map(([k, v]) => [`environment variable ${k}`, v] as [string, string]),
      ...(this.job.launchCommand ?? []).map((c, i) => [`command entry ${i}`, c] as [string, string]),
      ...this.queueConfigs.filter((q) => q.jobId).map((q) => ['an SqsSource jobId', q.jobId!] as [string, string]),
    ];
    const have = [...this.jobTypes];
    for (const [where, template] of templates) {
      for (const field of fieldsIn(template)) {
        if (field.startsWith('path:')) continue; // paths resolve against any event
        const needs = FIELD_SOURCES[field];
        if (!needs) {
          errors.push(`${where} uses an unknown job field '${field}': build markers with the JobField factories`);
        } else if (!needs.some((t) => have.includes(t as JobSourceType))) {
          errors.push(`${where} uses job field '${field}', which only resolves for ${needs.join(' or ')} jobs, `
            + `but the sources of ${this.node.path} produce ${have.join(' and ')} jobs: add a matching source or use another JobField`);
        }
      }
    }
    return errors;
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
      return [`the dispatcher config for ${(this.job ?? this.workflow)!.node.path} is about ${estimate} bytes, over Lambda's 4 KB environment limit: `
        + 'shorten the environment templates of the job (fewer or shorter JobField entries), or move static values into the task definition'];
    }
    return [];
  }

  private acknowledgeNagFindings(): void {
    const family = this.job?.taskDefinition.family;
    acknowledgeWildcardResources(this.role.node.findChild('DefaultPolicy'), [
      {
        matches: (resource, actions) => family !== undefined && actions.includes('ecs:RunTask')
          && resource.endsWith(`:task-definition/${family}:*`),
        reason: 'ecs:RunTask covers every revision of the job\'s task definition family (family:*) so a redeployed job keeps launching; it is conditioned on ecs:cluster.',
      },
      {
        matches: (resource, actions) => actions.length === 1 && actions[0] === 'ecs:TagResource'
          && /:task\/[^/]+\/\*$/.test(resource),
        reason: 'ecs:TagResource covers tasks of the job\'s cluster, whose ids are unknown before launch; it is conditioned on ecs:CreateAction=RunTask.',
      },
      XRAY_WILDCARD,
      {
        matches: (resource, actions) => resource === '*' && actions.length === 1 && actions[0] === 'ecs:ListTasks',
        reason: 'ecs:ListTasks (counting running tasks for maxConcurrentTasks) takes no task resource; it is conditioned on ecs:cluster.',
      },
      ...(this.claimCheck ? [claimCheckWildcard(this.claimCheck.prefix, 's3:PutObject')] : []),
    ]);
    acknowledgeNag(this.function, [
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'Invoked only by its SQS event source mapping, synchronously: failed records return to the queue, whose redrive policy and the dispatcher itself dead-letter them with a reason.',
      },
      {
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'Never invoked asynchronously: only its SQS event source mapping invokes it.',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason: 'SQS event source mappings take no on-failure destination: records that keep failing are dead-lettered by the queue redrive policy, and records that can never launch by the dispatcher, with their reason.',
      },
    ]);
    acknowledgeNag(this.deadLetterQueue, [{
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of the dispatch queue: it is where failed records end and are inspected or redriven.',
    }]);
  }
}

function claimCheckWildcard(prefix: string, action: string): WildcardReason {
  return {
    matches: (resource, actions) => actions.length === 1 && actions[0] === action && resource.endsWith(`/${prefix}*`),
    reason: `Claim-check documents have one key per job, unknown before the job arrives: ${action} is limited to the '${prefix}' prefix of the claim-check bucket.`,
  };
}

function validate(props: JobDispatcherProps, timeout: Duration, maxReceiveCount: number, launchConcurrency: number): void {
  const cap = props.maxConcurrentTasks;
  if (cap !== undefined && !Token.isUnresolved(cap) && (!Number.isInteger(cap) || cap < 1 || cap > 100000)) {
    throw new Error(`maxConcurrentTasks must be a whole number from 1 to 100,000, got ${cap}`);
  }
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
