import {
  Duration, aws_ec2 as ec2, aws_ecs as ecs, aws_events as events, aws_iam as iam, aws_kms as kms, aws_lambda as lambda,
  aws_lambda_destinations as destinations, aws_logs as logs, aws_s3 as s3,
  aws_sqs as sqs, Stack, Token,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { ClaimCheck, ClaimCheckBinding } from './claim-check';
import { ComputeRoute, ComputeTarget } from './compute-route';
import type { ArrayConfig, FargateJobTargetConfig, RouteDestinationConfig, TargetConfig } from '../contract/dispatch-config';
import { JobSourceType } from '../contract/job';
import { FIELD_SOURCES, fieldsIn, PAYLOAD_URI_FIELD } from '../contract/job-fields';
import type { WildcardReason } from '../internal/nag';
import { secureQueue } from '../internal/secure-queue';
import type { IFargateJob } from '../job/fargate-job';
import { listTasksPermission, toStatement } from '../job/grants';
import { ArrayFailurePolicy, JobArray } from '../job/job-array';
import { IJobLedger, JobLedger } from '../ledger/job-ledger';
import { JobTracker } from '../tracking/job-tracker';
import { JobTracking } from '../tracking/job-tracking';
import { IJobWorkflow, JobWorkflow } from '../workflow/job-workflow';

/** Options of `DispatchTarget.fargateJob()`. */
export interface FargateJobTargetOptions {
  /**
   * Where job input that does not fit the 8,192-character RunTask overrides
   * goes: `ClaimCheck.s3()` writes it to an S3 document whose URI reaches
   * the container in `HC_PAYLOAD_URI`; `ClaimCheck.disabled()` dead-letters
   * such jobs with the reason.
   * @default ClaimCheck.s3() - the stack's encrypted, SSL-only claim-check bucket, under the dispatcher's own prefix, documents expiring after 30 days
   */
  readonly claimCheck?: ClaimCheck;

  /**
   * Most tasks started by the dispatcher that may be running (or starting)
   * at once. Before each batch the dispatcher counts them (`ecs:ListTasks`
   * by `startedBy`) and leaves the records it has no room for in the queue.
   * A soft cap: concurrent invocations count independently, so it can be
   * exceeded by up to (`maxConcurrency` - 1) x `batchSize` tasks.
   * @default - no cap
   */
  readonly maxConcurrentTasks?: number;

  /**
   * Whether jobs are followed to their outcome: `JobTracking.enabled()`
   * creates a `JobTracker` (outcomes, bounded retries, failed-jobs queue,
   * `Job Succeeded` / `Job Failed` events, metrics) and puts HC_JOB_ID,
   * HC_RUN, HC_ATTEMPT and HC_ENQUEUED_AT into every task's environment.
   * @default JobTracking.enabled() - 2 retries of interrupted and failed-to-start jobs, no timeout
   */
  readonly tracking?: JobTracking;

  /**
   * The job ledger: where each job's launch attempts, task and outcome are
   * recorded (the basis of launching each job once). Pass one to share it
   * between dispatchers.
   * @default - a new `JobLedger` (30-day TTL, retained on stack deletion)
   */
  readonly ledger?: IJobLedger;

  /**
   * Makes every job an array job: `JobArray.ofSize(n)` or
   * `JobArray.fromList('$.detail.items')` launches that many children,
   * each exactly once, and publishes one `Array Job Completed` event when
   * the last finishes. Needs tracking; not available on a route.
   * @default - one task per job
   */
  readonly array?: JobArray;
}

/** Options of `DispatchTarget.route()`. */
export interface RouteTargetOptions extends FargateJobTargetOptions {
  /**
   * Rules evaluated in order for every job; the first that matches picks
   * where the job runs.
   */
  readonly rules: ComputeRoute[];

  /** Where jobs that match no rule run. */
  readonly otherwise: ComputeTarget;
}

/** What a dispatcher hands its target when it binds it. @internal */
export interface DispatchTargetHost {
  /** The dispatcher's construct path. */
  readonly path: string;
  readonly role: iam.Role;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly visibilityTimeout: Duration;
  readonly maxReceiveCount: number;
  readonly startedBy: string;
  readonly logRetention?: logs.RetentionDays;
  /** Where the tracker's function runs and how its log group is encrypted: as the dispatcher's. */
  readonly logEncryptionKey?: kms.IKey;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly reserveConcurrency?: boolean;
}

/** A target bound to its dispatcher. @internal */
export interface DispatchTargetBinding {
  /** The tracker, when the target tracks its jobs. */
  readonly tracker?: JobTracker;
  /** A queue of invocation records the dispatcher consumes too (a route's Lambda workers' destinations). */
  readonly outcomeQueue?: sqs.IQueue;
  /** Functions the target invokes, for the dispatcher's alarms. */
  readonly functions?: lambda.IFunction[];
  /** The job ledger, for targets that keep one. */
  readonly ledger?: IJobLedger;
  /** The bus of the `Job Succeeded` / `Job Failed` (and `Array Job Completed`) events, when the target publishes them. */
  readonly eventBus?: events.IEventBus;
  readonly claimCheckBucket?: s3.IBucket;
  /** Wildcard resources the target granted the dispatcher role, explained for cdk-nag. */
  readonly wildcards: WildcardReason[];
  /** The handler's view of the target (rendered at synth, after every source is bound). */
  config(): TargetConfig;
  /** Synth errors: markers the sources of the dispatcher cannot resolve, and the like. */
  validate(sourceTypes: JobSourceType[], hasSources: boolean): string[];
  /** The templates with `JobField` markers the target resolves per job: [where, template]. */
  fieldTemplates(): Array<[string, string]>;
}

/**
 * What a `JobDispatcher` starts for every job: a Fargate task, or a Step
 * Functions execution. One dispatcher has one target; each kind has one
 * launcher in the dispatcher's runtime.
 */
export abstract class DispatchTarget {
  /**
   * Launch one Fargate task per job, through RunTask with a deterministic
   * client token per attempt (a redelivered event does not launch twice).
   */
  public static fargateJob(job: IFargateJob, options: FargateJobTargetOptions = {}): DispatchTarget {
    return new FargateJobTarget(job, options);
  }

  /**
   * Start one execution of `workflow` per job, named after the job id (a
   * redelivered event does not start a second). The execution input is
   * `{ job: { id, source, fields, event } }`.
   */
  public static workflow(workflow: IJobWorkflow): DispatchTarget {
    return new WorkflowTarget(workflow);
  }

  /**
   * Choose the compute model per job: rules (size, S3 key, any job field)
   * send each job to a Lambda function (invoked asynchronously) or to a
   * Fargate job, and a Lambda run that cannot finish (timeout, out of
   * memory, too old, or the worker asks) spills over to the Fargate job.
   * The Fargate options (claim check, tracking, cap, ledger) apply to the
   * route's Fargate job; a route has at most one.
   */
  public static route(options: RouteTargetOptions): DispatchTarget {
    return new RouteTarget(options);
  }

  /** The construct each job starts (the job or the workflow; a route's `otherwise`). */
  public abstract readonly subject: IConstruct;

  /** `fargateJob`, `workflow` or `route`. */
  public abstract readonly kind: string;

  /**
   * The cluster the target's tasks run in.
   * @default - none for a workflow target (its job steps name their own clusters)
   */
  public abstract readonly cluster?: ecs.ICluster;

  /** The bundled handler of this kind of target (`<dir>/<name>.lambda` under `assets/`). @internal */
  public abstract readonly _asset: string;

  /** What the dispatcher function does, in its description. @internal */
  public abstract _describe(): string;

  /** Grants the dispatcher role what launching needs and creates what the target owns. @internal */
  public abstract _bind(scope: Construct, host: DispatchTargetHost): DispatchTargetBinding;
}

class FargateJobTarget extends DispatchTarget {
  public readonly kind = 'fargateJob';
  public readonly subject: IConstruct;
  public readonly cluster: ecs.ICluster;
  public readonly _asset = 'dispatch/dispatcher.lambda';

  constructor(private readonly job: IFargateJob, private readonly options: FargateJobTargetOptions) {
    super();
    const cap = options.maxConcurrentTasks;
    if (cap !== undefined && !Token.isUnresolved(cap) && (!Number.isInteger(cap) || cap < 1 || cap > 100000)) {
      throw new Error(`maxConcurrentTasks must be a whole number from 1 to 100,000, got ${cap}`);
    }
    if (options.array && options.tracking && !options.tracking.tracksJobs) {
      throw new Error('an array job needs tracking (the tracker counts its children and publishes its completion): '
        + 'remove JobTracking.disabled() or the array option');
    }
    this.subject = job;
    this.cluster = job.cluster;
  }

  public _describe(): string {
    return `Launches ${this.job.node.path} tasks for queued events`;
  }

  public _bind(scope: Construct, host: DispatchTargetHost): DispatchTargetBinding {
    const job = this.job;
    // Grants first, then the ledger, the claim check and the tracker: the order their resources and statements synthesize in.
    const fargate = bindFargateJob(host, job, this.options);
    const ledger = this.options.ledger ?? new JobLedger(scope, 'Ledger');
    ledger.grantRecordJobs(host.role);
    const claimCheck = (this.options.claimCheck ?? ClaimCheck.s3())._bind(scope, {
      startedBy: host.startedBy, writer: host.role, readers: [job.taskRole],
    });
    const tracker = fargate.track(scope, ledger);
    // An array whose last children are cancelled (FAIL_PARENT) completes in the dispatcher.
    if (this.options.array && tracker) tracker.eventBus.grantPutEventsTo(host.role);
    return {
      tracker,
      ledger,
      eventBus: tracker?.eventBus,
      claimCheckBucket: claimCheck?.bucket,
      wildcards: [...fargate.wildcards, ...(claimCheck ? [claimCheck.writerWildcard] : [])],
      config: () => {
        const { job: launch, ...options } = fargate.config(tracker);
        return {
          kind: 'fargateJob',
          job: launch,
          ledger: { table: ledger.table.tableName, ttlSeconds: ledger.timeToLive.toSeconds() },
          ...(claimCheck ? { claimCheck: claimCheck.config() } : {}),
          ...options,
        };
      },
      fieldTemplates: () => jobTemplates(job),
      validate: (sourceTypes, hasSources) => validateJobFields(job, claimCheck, host.path, sourceTypes, hasSources),
    };
  }
}

/** What binding a Fargate job to a dispatcher made. */
interface FargateJobBinding {
  readonly wildcards: WildcardReason[];
  /** Creates the job's tracker, when the options track jobs. */
  track(scope: Construct, ledger: IJobLedger): JobTracker | undefined;
  config(tracker: JobTracker | undefined): Omit<FargateJobTargetConfig, 'kind' | 'ledger' | 'claimCheck'>;
}

/** Grants the dispatcher role the job's launch (and the cap's counting). */
function bindFargateJob(host: DispatchTargetHost, job: IFargateJob, options: FargateJobTargetOptions): FargateJobBinding {
  job.grantRun(host.role);
  const wildcards: WildcardReason[] = [
    {
      matches: (resource, actions) => actions.includes('ecs:RunTask') && resource.endsWith(`:task-definition/${job.taskDefinition.family}:*`),
      reason: 'ecs:RunTask covers every revision of the job\'s task definition family (family:*) so a redeployed job keeps launching; it is conditioned on ecs:cluster.',
    },
    {
      matches: (resource, actions) => actions.length === 1 && actions[0] === 'ecs:TagResource' && /:task\/[^/]+\/\*$/.test(resource),
      reason: 'ecs:TagResource covers tasks of the job\'s cluster, whose ids are unknown before launch; it is conditioned on ecs:CreateAction=RunTask.',
    },
  ];
  const cap = options.maxConcurrentTasks;
  if (cap !== undefined) {
    // Counting running tasks, and carrying deferred records over into the queue.
    host.role.addToPrincipalPolicy(toStatement(listTasksPermission(job.cluster)));
    host.queue.grantSendMessages(host.role);
    wildcards.push({
      matches: (resource, actions) => resource === '*' && actions.length === 1 && actions[0] === 'ecs:ListTasks',
      reason: 'ecs:ListTasks (counting running tasks for maxConcurrentTasks) takes no task resource; it is conditioned on ecs:cluster.',
    });
  }
  const tracking = options.tracking ?? JobTracking.enabled();
  return {
    wildcards,
    track: (scope, ledger) => tracking.tracksJobs
      ? new JobTracker(scope, 'Tracker', {
        ...tracking.options,
        job,
        ledger,
        startedBy: host.startedBy,
        retryQueue: host.queue,
        logRetention: host.logRetention,
        ...(options.array ? { array: options.array } : {}),
        logEncryptionKey: host.logEncryptionKey,
        vpc: host.vpc,
        vpcSubnets: host.vpcSubnets,
        reserveConcurrency: host.reserveConcurrency,
      })
      : undefined,
    config: (tracker) => ({
      job: {
        cluster: job.cluster.clusterArn,
        taskDefinition: job.taskDefinition.taskDefinitionArn,
        family: job.taskDefinition.family,
        containerName: job.containerName,
        subnets: job.subnetIds,
        securityGroups: job.securityGroups.map((sg) => sg.securityGroupId),
        ...(job.capacity.strategy ? { capacityProviderStrategy: job.capacity.strategy.map((s) => ({ ...s })) } : {}),
        ...(job.platformVersion ? { platformVersion: job.platformVersion } : {}),
        ...(job.capacity.fallbackToOnDemand ? { fallbackToOnDemand: true } : {}),
        environment: job.launchEnvironment,
        ...(job.launchCommand ? { command: job.launchCommand } : {}),
      },
      ...(tracker ? { tracking: true as const } : {}),
      ...(cap !== undefined ? { maxConcurrentTasks: cap } : {}),
      ...(options.array && tracker ? { array: arrayConfig(options.array, tracker) } : {}),
    }),
  };
}

function arrayConfig(array: JobArray, tracker: JobTracker): ArrayConfig {
  return {
    ...(array.size !== undefined ? { size: array.size } : { listPath: array.listPath }),
    failParent: array.onChildFailure === ArrayFailurePolicy.FAIL_PARENT,
    eventBusName: tracker.eventBus.eventBusName,
  };
}

function validateJobFields(job: IFargateJob, claimCheck: ClaimCheckBinding | undefined, dispatcherPath: string,
  sourceTypes: JobSourceType[], hasSources: boolean): string[] {
  const templates = jobTemplates(job);
  const errors: string[] = [];
  if (!claimCheck && templates.some(([, t]) => fieldsIn(t).includes(PAYLOAD_URI_FIELD))) {
    errors.push(`the job ${job.node.path} uses JobField.payloadUri(), but the claim check of ${dispatcherPath} is disabled: `
      + 'use ClaimCheck.s3() (the default) or remove the field');
  }
  return hasSources ? [...errors, ...unresolvableFields(templates, sourceTypes, dispatcherPath)] : errors;
}

class WorkflowTarget extends DispatchTarget {
  public readonly kind = 'workflow';
  public readonly subject: IConstruct;
  public readonly cluster?: ecs.ICluster = undefined;
  public readonly _asset = 'dispatch/workflow-dispatcher.lambda';

  constructor(private readonly workflow: IJobWorkflow) {
    super();
    this.subject = workflow;
  }

  public _describe(): string {
    return `Starts ${this.workflow.node.path} for queued events`;
  }

  public _bind(_scope: Construct, host: DispatchTargetHost): DispatchTargetBinding {
    this.workflow.stateMachine.grantStartExecution(host.role);
    return {
      wildcards: [],
      config: () => ({ kind: 'workflow', stateMachineArn: this.workflow.stateMachine.stateMachineArn }),
      fieldTemplates: () => this.fieldTemplates(),
      // The job steps of a JobWorkflow resolve markers from the execution input: the sources must produce them.
      validate: (sourceTypes, hasSources) => hasSources ? unresolvableFields(this.fieldTemplates(), sourceTypes, host.path) : [],
    };
  }

  private fieldTemplates(): Array<[string, string]> {
    return this.workflow instanceof JobWorkflow ? this.workflow._jobFieldUses.map((u) => [u.where, u.template] as [string, string]) : [];
  }
}

class RouteTarget extends DispatchTarget {
  public readonly kind = 'route';
  public readonly subject: IConstruct;
  public readonly cluster?: ecs.ICluster;
  public readonly _asset = 'dispatch/route-dispatcher.lambda';
  /** The distinct targets, in order of first use: the handler's destinations. */
  private readonly targets: ComputeTarget[] = [];
  private readonly job?: IFargateJob;

  constructor(private readonly options: RouteTargetOptions) {
    super();
    if (options.array) {
      throw new Error('DispatchTarget.route() does not launch array jobs: use DispatchTarget.fargateJob(job, { array }) for them');
    }
    if (!(options.otherwise instanceof ComputeTarget)) {
      throw new Error('DispatchTarget.route() needs `otherwise`: ComputeTarget.lambdaFunction(fn) or ComputeTarget.fargate(job)');
    }
    const cap = options.maxConcurrentTasks;
    if (cap !== undefined && !Token.isUnresolved(cap) && (!Number.isInteger(cap) || cap < 1 || cap > 100000)) {
      throw new Error(`maxConcurrentTasks must be a whole number from 1 to 100,000, got ${cap}`);
    }
    for (const target of [...(options.rules ?? []).map((r) => r.target), options.otherwise]) {
      if (this.indexOf(target) >= 0) continue;
      if (target.kind === 'fargate') {
        if (this.job && this.job !== target.job) {
          throw new Error(`a route launches one Fargate job, but it names ${this.job.node.path} and ${target.job!.node.path}: `
            + 'route to one FargateJob (use a JobField in its environment to vary the work), or use two dispatchers');
        }
        this.job = target.job;
      }
      this.targets.push(target);
    }
    for (const target of this.targets) {
      if (target.kind === 'lambda' && target._options.spillover === true && !this.job) {
        throw new Error(`ComputeTarget.lambdaFunction(${target.function!.node.path}) asks for spillover, but the route has no Fargate job to spill over to: `
          + 'add a rule or `otherwise` with ComputeTarget.fargate(job), or remove `spillover`');
      }
    }
    this.cluster = this.job?.cluster;
    this.subject = options.otherwise.kind === 'fargate' ? options.otherwise.job! : options.otherwise.function!;
  }

  public _describe(): string {
    const names = this.targets.map((t) => (t.kind === 'fargate' ? t.job! : t.function!).node.path);
    return `Routes queued events to ${names.join(', ')}`.slice(0, 256);
  }

  public _bind(scope: Construct, host: DispatchTargetHost): DispatchTargetBinding {
    const job = this.job;
    const ledger = this.options.ledger ?? new JobLedger(scope, 'Ledger');
    ledger.grantRecordJobs(host.role);
    const functions = this.targets.filter((t) => t.kind === 'lambda').map((t) => t.function!);
    const roles = functions.map((fn) => {
      if (!fn.role) {
        throw new Error(`the routed function ${fn.node.path} has no known role: its destinations send each run's record to the dispatch queue `
          + 'with the function\'s role, so pass a lambda.Function of this app, or import it with fromFunctionAttributes({ role })');
      }
      return fn.role;
    });
    const fargate = job ? bindFargateJob(host, job, this.options) : undefined;
    const readers = [...(job ? [job.taskRole] : []), ...roles];
    const claimCheck = (this.options.claimCheck ?? ClaimCheck.s3())._bind(scope, { startedBy: host.startedBy, writer: host.role, readers });
    const tracker = fargate?.track(scope, ledger);
    const wildcards: WildcardReason[] = [...(fargate?.wildcards ?? []), ...(claimCheck ? [claimCheck.writerWildcard] : [])];
    // The workers' destinations send to a queue of their own, from which the dispatcher accepts only invocation
    // records: a worker cannot enqueue jobs (or relaunches with overrides) into the dispatch queue.
    const outcomeQueue = functions.length > 0 ? secureQueue(scope, 'OutcomeQueue', {
      visibilityTimeout: host.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: host.deadLetterQueue, maxReceiveCount: host.maxReceiveCount },
    }) : undefined;
    for (const fn of functions) {
      fn.grantInvoke(host.role);
      try {
        fn.configureAsyncInvoke({
          retryAttempts: 0,
          maxEventAge: Duration.hours(6),
          onSuccess: new destinations.SqsDestination(outcomeQueue!),
          onFailure: new destinations.SqsDestination(outcomeQueue!),
        });
      } catch (e) {
        throw new Error(`the routed function ${fn.node.path} already has asynchronous invocation settings (${(e as Error).message}): `
          + 'the route sets them (no retries, destinations to the dispatch queue); remove yours, and route a function from one dispatcher only');
      }
    }
    wildcards.push({
      matches: (resource, actions) => actions.length === 1 && actions[0] === 'lambda:InvokeFunction' && resource.endsWith(':*'),
      reason: 'lambda:InvokeFunction on the routed functions\' versions and aliases (function:*), as lambda grantInvoke grants it; only the routed functions.',
    });
    // Lambda runs publish Job Succeeded / Job Failed like tracked tasks: on the tracker's bus (default: the account's default bus).
    const tracking = this.options.tracking ?? JobTracking.enabled();
    const bus = tracking.tracksJobs && functions.length > 0
      ? tracker?.eventBus ?? tracking.options.eventBus ?? events.EventBus.fromEventBusName(scope, 'DefaultBus', 'default')
      : undefined;
    bus?.grantPutEventsTo(host.role);
    return {
      tracker,
      outcomeQueue,
      functions,
      ledger,
      eventBus: bus ?? tracker?.eventBus,
      claimCheckBucket: claimCheck?.bucket,
      wildcards,
      config: () => ({
        kind: 'route',
        ...(bus ? { eventBusName: bus.eventBusName } : {}),
        rules: (this.options.rules ?? []).map((r) => r._render(this.indexOf(r.target))),
        otherwise: this.indexOf(this.options.otherwise),
        destinations: this.targets.map((t) => this.destination(t)),
        ledger: { table: ledger.table.tableName, ttlSeconds: ledger.timeToLive.toSeconds() },
        ...(claimCheck ? { claimCheck: claimCheck.config() } : {}),
        ...(job ? fargateShape(job) : {}),
        ...(fargate ? { fargate: fargate.config(tracker) } : {}),
      }),
      fieldTemplates: () => this.fieldTemplates(),
      validate: (sourceTypes, hasSources) => {
        const errors = job ? validateJobFields(job, claimCheck, host.path, sourceTypes, hasSources) : [];
        if (!hasSources) return errors;
        const ruleFields = (this.options.rules ?? []).flatMap((r, i) => r._fieldTemplate() ? [[`rule ${i} of ${host.path}`, r._fieldTemplate()!] as [string, string]] : []);
        errors.push(...unresolvableFields(ruleFields, sourceTypes, host.path));
        (this.options.rules ?? []).forEach((r, i) => {
          if (r._needsS3() && !sourceTypes.includes(JobSourceType.S3)) {
            errors.push(`rule ${i} of ${host.path} matches S3 object keys (${r.description}), but the dispatcher's sources produce `
              + `${sourceTypes.join(' and ')} jobs: it would never match; use whenField or whenSizeBelow, or add an S3Source`);
          }
        });
        return errors;
      },
    };
  }

  private indexOf(target: ComputeTarget): number {
    return this.targets.findIndex((t) => t === target || (t.kind === target.kind && t.function === target.function && t.job === target.job));
  }

  private destination(target: ComputeTarget): RouteDestinationConfig {
    if (target.kind === 'fargate') return { kind: 'fargate' };
    const fn = target.function!;
    const cfn = fn.node.defaultChild instanceof lambda.CfnFunction ? fn.node.defaultChild : undefined;
    const configured = cfn ? Stack.of(fn).resolve(cfn.memorySize) : undefined;
    return {
      kind: 'lambda',
      functionArn: fn.functionArn,
      spillover: target._options.spillover ?? this.job !== undefined,
      memoryMiB: target._options.memorySize ?? (typeof configured === 'number' ? configured : 128),
      arm64: fn.architecture?.name === lambda.Architecture.ARM_64.name,
    };
  }

  private fieldTemplates(): Array<[string, string]> {
    return [
      ...(this.job ? jobTemplates(this.job) : []),
      ...(this.options.rules ?? []).flatMap((r, i) => r._fieldTemplate() ? [[`rule ${i}`, r._fieldTemplate()!] as [string, string]] : []),
    ];
  }
}

/** A Fargate job's size for cost estimates, when the app knows it (a FargateTaskDefinition with literal sizes). */
function fargateShape(job: IFargateJob): { fargateShape?: { cpuUnits: number; memoryMiB: number; arm64: boolean; spot: boolean } } {
  const td = job.taskDefinition;
  if (!(td instanceof ecs.FargateTaskDefinition) || Token.isUnresolved(td.cpu) || Token.isUnresolved(td.memoryMiB)) return {};
  const cfn = td.node.defaultChild as ecs.CfnTaskDefinition;
  const platform = Stack.of(td).resolve(cfn.runtimePlatform) as { cpuArchitecture?: string } | undefined;
  const spot = (job.capacity.strategy ?? []).some((s) => s.capacityProvider === 'FARGATE_SPOT' && (s.weight ?? 0) > 0);
  return { fargateShape: { cpuUnits: td.cpu, memoryMiB: td.memoryMiB, arm64: platform?.cpuArchitecture === 'ARM64', spot } };
}

function jobTemplates(job: IFargateJob): Array<[string, string]> {
  return [
    ...Object.entries(job.launchEnvironment).map(([k, v]) => [`environment variable ${k} of ${job.node.path}`, v] as [string, string]),
    ...(job.launchCommand ?? []).map((c, i) => [`command entry ${i} of ${job.node.path}`, c] as [string, string]),
  ];
}

/**
 * The markers in `templates` that only some source types produce (`s3.key`,
 * `sqs.body`, …), with where they are used: what cannot be checked while a
 * dispatcher has no sources.
 */
export function sourceSpecificFields(templates: Array<[string, string]>): string[] {
  const all = FIELD_SOURCES['job.id'];
  return templates.flatMap(([where, template]) => fieldsIn(template)
    .filter((field) => FIELD_SOURCES[field] !== undefined && FIELD_SOURCES[field].length < all.length)
    .map((field) => `'${field}' in ${where}`));
}

/** Every marker must be resolvable for the source types the dispatcher's sources produce. */
export function unresolvableFields(templates: Array<[string, string]>, sourceTypes: JobSourceType[], dispatcherPath: string): string[] {
  const errors: string[] = [];
  for (const [where, template] of templates) {
    for (const field of fieldsIn(template)) {
      if (field.startsWith('path:')) continue; // paths resolve against any event
      const needs = FIELD_SOURCES[field];
      if (!needs) {
        errors.push(`${where} uses an unknown job field '${field}': build markers with the JobField factories`);
      } else if (!needs.some((t) => sourceTypes.includes(t))) {
        errors.push(`${where} uses job field '${field}', which only resolves for ${needs.join(' or ')} jobs, `
          + `but the sources of ${dispatcherPath} produce ${sourceTypes.join(' and ')} jobs: add a matching source or use another JobField`);
      }
    }
  }
  return errors;
}
