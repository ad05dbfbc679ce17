import {
  Duration, aws_lambda as lambda, aws_stepfunctions as sfn, aws_stepfunctions_tasks as tasks, Token,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { FargateJobState, JobFieldUse } from './fargate-job-state';
import { TASK_TOKEN_ENV } from '../contract/names';
import { IFargateJob } from '../job/fargate-job';

/** How a workflow runs a Fargate job. */
export enum JobIntegration {
  /** Run the task and wait until it stops (`.sync`); a non-zero exit fails the step. */
  RUN_JOB = 'RUN_JOB',
  /** Run the task and wait for it to call `SendTaskSuccess`/`SendTaskFailure` with the token it gets in `HC_TASK_TOKEN`. */
  TASK_TOKEN = 'TASK_TOKEN',
}

/** A Retry rule of a step. */
export interface RetryPolicy {
  /** Error names that this rule retries (`States.TaskFailed`, `ECS.AmazonECSException`, `States.ALL`, …). */
  readonly errors: string[];
  /**
   * Wait before the first retry.
   * @default Duration.seconds(2)
   */
  readonly interval?: Duration;
  /**
   * Retries (not counting the first try).
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Multiplier of the wait after each retry.
   * @default 2
   */
  readonly backoffRate?: number;
}

/** Options every step takes. */
export interface StepOptions {
  /**
   * Name of the state (unique in the workflow).
   * @default - derived from the step kind and position
   */
  readonly name?: string;

  /**
   * Where the step's (trimmed) result goes in the state.
   * @default '$.steps.<name>' (name with non-word characters as `_`); inside a Map or Parallel, '$' (the result is the iteration's state)
   */
  readonly resultPath?: string;

  /**
   * Retry rules, replacing the defaults of the step kind.
   * @default - Lambda: the Lambda service exceptions, 6 times from 2 s; job: ECS.AmazonECSException 3 times from 10 s, States.TaskFailed twice from 30 s
   */
  readonly retry?: RetryPolicy[];

  /**
   * How long the step may take.
   * @default - Lambda: the function's timeout; job: no limit
   */
  readonly timeout?: Duration;
}

/** Options of a Lambda step. */
export interface LambdaStepOptions extends StepOptions {
  /**
   * What the function receives.
   * @default '$' - the whole state
   */
  readonly inputPath?: string;
}

/** Options of a job step. */
export interface JobStepOptions extends StepOptions {
  /**
   * Environment of the job's container for this step, on top of the job's
   * own. Values starting with `$.` are paths into the state; values with
   * `JobField` markers resolve from the execution input that a
   * `JobDispatcher` started (like the job's own markers); others are literal.
   * @default - none
   */
  readonly environment?: { [name: string]: string };

  /**
   * How the step waits for the job.
   * @default JobIntegration.RUN_JOB
   */
  readonly integration?: JobIntegration;

  /**
   * With `TASK_TOKEN`: the job must send a heartbeat this often.
   * @default - no heartbeat
   */
  readonly heartbeat?: Duration;
}

/** Options of a Map step. */
export interface MapStepOptions extends StepOptions {
  /**
   * Items processed at once.
   * @default 10
   */
  readonly maxConcurrency?: number;
}

/** What a step renders into, within a workflow. @internal */
export interface StepContext {
  readonly scope: Construct;
  /** Catch target of every step; none inside a Map or Parallel (their errors fail the Map or Parallel, which is caught). */
  readonly onError?: sfn.IChainable;
  readonly names: Set<string>;
  /** Default result paths (`$.steps.<sanitized name>`) taken so far, with the step name that took each. */
  readonly resultPaths: Map<string, string>;
  /** Whether steps run at the top level (results under `$.steps`) or inside a Map or Parallel (results replace the state). */
  readonly nested?: boolean;
  /** Called for each job step, so the workflow can grant and record (with the markers the step resolves). */
  readonly onJob: (job: IFargateJob, integration: JobIntegration, uses: JobFieldUse[]) => void;
}

type Kind = 'lambda' | 'job' | 'map' | 'parallel' | 'chain';

const LAMBDA_ERRORS = [
  'Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
];

/**
 * One step of a `JobWorkflow`: a Lambda function, a Fargate job, a Map over
 * a list, parallel branches, or a chain of steps.
 */
export class WorkflowStep {
  /** Invoke a Lambda function with the state; its payload goes to `resultPath`. */
  public static invoke(fn: lambda.IFunction, options: LambdaStepOptions = {}): WorkflowStep {
    return new WorkflowStep('lambda', options, { fn });
  }

  /** Run a Fargate job (`.sync` by default, or with a task token). */
  public static job(job: IFargateJob, options: JobStepOptions = {}): WorkflowStep {
    if (options.heartbeat && (options.integration ?? JobIntegration.RUN_JOB) !== JobIntegration.TASK_TOKEN) {
      throw new Error('heartbeat needs integration: JobIntegration.TASK_TOKEN (a .sync job reports no heartbeats)');
    }
    for (const name of Object.keys(options.environment ?? {})) {
      if (name === TASK_TOKEN_ENV) throw new Error(`environment variable ${TASK_TOKEN_ENV} is set by the workflow for TASK_TOKEN jobs: choose another name`);
    }
    return new WorkflowStep('job', options, { job });
  }

  /** Run `steps` for every item of the list at `itemsPath` (a Map state); each iteration gets the item as its state. */
  public static forEach(itemsPath: string, steps: WorkflowStep[], options: MapStepOptions = {}): WorkflowStep {
    if (!itemsPath.startsWith('$')) throw new Error(`itemsPath must be a path into the state (for example '$.steps.list.items'), got '${itemsPath}'`);
    if (steps.length === 0) throw new Error('forEach needs at least one step');
    const concurrency = options.maxConcurrency ?? 10;
    if (!Token.isUnresolved(concurrency) && (!Number.isInteger(concurrency) || concurrency < 0 || concurrency > 1000)) {
      throw new Error(`maxConcurrency must be a whole number from 0 (no limit) to 1,000, got ${concurrency}`);
    }
    return new WorkflowStep('map', options, { itemsPath, steps });
  }

  /** Run each branch (a step, or a chain of steps) at the same time; the results are a list. */
  public static parallel(branches: WorkflowStep[], options: StepOptions = {}): WorkflowStep {
    if (branches.length < 2) throw new Error('a parallel step needs at least two branches');
    return new WorkflowStep('parallel', options, { steps: branches });
  }

  /** Steps one after the other, as one step (a parallel branch, for example). */
  public static chain(steps: WorkflowStep[]): WorkflowStep {
    if (steps.length === 0) throw new Error('a chain needs at least one step');
    return new WorkflowStep('chain', {}, { steps });
  }

  private constructor(
    private readonly kind: Kind,
    private readonly options: StepOptions,
    private readonly parts: { fn?: lambda.IFunction; job?: IFargateJob; itemsPath?: string; steps?: WorkflowStep[] },
  ) {}

  /** Renders the step into states. @internal */
  public _render(ctx: StepContext, index: string): { start: sfn.IChainable; end: sfn.INextable } {
    if (this.kind === 'chain') {
      const rendered = this.parts.steps!.map((s, i) => s._render(ctx, `${index}.${i + 1}`));
      for (let i = 0; i + 1 < rendered.length; i++) rendered[i].end.next(rendered[i + 1].start);
      return { start: rendered[0].start, end: rendered[rendered.length - 1].end };
    }
    const name = this.options.name ?? `${this.kind[0].toUpperCase()}${this.kind.slice(1)} ${index}`;
    if (ctx.names.has(name)) throw new Error(`two workflow steps are named '${name}': give each step its own name`);
    ctx.names.add(name);
    // Inside a Map or Parallel the result replaces the state: no ResultPath (the same as '$').
    const defaultPath = ctx.nested ? undefined : `$.steps.${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    if (this.options.resultPath === undefined && defaultPath !== undefined) {
      const other = ctx.resultPaths.get(defaultPath);
      if (other !== undefined) {
        throw new Error(`workflow steps '${other}' and '${name}' would both keep their results under ${defaultPath} `
          + '(a step name becomes a path with every character other than A-Z a-z 0-9 _ as \'_\'): rename one of them or give it a resultPath');
      }
      ctx.resultPaths.set(defaultPath, name);
    }
    const resultPath = this.options.resultPath ?? defaultPath;
    const state = this.state(ctx, name, resultPath, index);
    for (const rule of this.options.retry ?? this.defaultRetry()) {
      state.addRetry({
        errors: rule.errors, interval: rule.interval ?? Duration.seconds(2), maxAttempts: rule.maxAttempts ?? 3, backoffRate: rule.backoffRate ?? 2,
      });
    }
    if (ctx.onError) state.addCatch(ctx.onError, { resultPath: '$.error' });
    return { start: state, end: state };
  }

  private state(ctx: StepContext, name: string, resultPath: string | undefined, index: string): sfn.TaskStateBase | sfn.Map | sfn.Parallel {
    const timeout = this.options.timeout ? sfn.Timeout.duration(this.options.timeout) : undefined;
    switch (this.kind) {
      case 'lambda':
        return new tasks.LambdaInvoke(ctx.scope, name, {
          lambdaFunction: this.parts.fn!,
          payload: sfn.TaskInput.fromJsonPathAt((this.options as LambdaStepOptions).inputPath ?? '$'),
          // Only the function's payload, under its own key: the state does not
          // grow with the invocation metadata.
          resultSelector: { 'result.$': '$.Payload' },
          resultPath,
          retryOnServiceExceptions: false,
          taskTimeout: timeout,
        });
      case 'job': return this.jobState(ctx, name, resultPath, timeout);
      case 'map': {
        const map = new sfn.Map(ctx.scope, name, {
          itemsPath: this.parts.itemsPath,
          maxConcurrency: (this.options as MapStepOptions).maxConcurrency ?? 10,
          resultPath,
        });
        const inner = WorkflowStep.chain(this.parts.steps!)._render({ ...ctx, onError: undefined, nested: true }, `${index}.item`);
        map.itemProcessor(inner.start as sfn.IChainable);
        return map;
      }
      default: {
        const parallel = new sfn.Parallel(ctx.scope, name, { resultPath });
        this.parts.steps!.forEach((branch, i) => parallel.branch(
          branch._render({ ...ctx, onError: undefined, nested: true }, `${index}.${String.fromCharCode(97 + i)}`).start as sfn.IChainable));
        return parallel;
      }
    }
  }

  private jobState(ctx: StepContext, name: string, resultPath: string | undefined, timeout: sfn.Timeout | undefined): sfn.TaskStateBase {
    const job = this.parts.job!;
    const options = this.options as JobStepOptions;
    const integration = options.integration ?? JobIntegration.RUN_JOB;
    const state = new FargateJobState(ctx.scope, name, {
      job,
      stepEnvironment: options.environment ?? {},
      taskToken: integration === JobIntegration.TASK_TOKEN,
      heartbeatTimeout: options.heartbeat ? sfn.Timeout.duration(options.heartbeat) : undefined,
      taskTimeout: timeout,
      // .sync returns the whole DescribeTasks task: keep what the next steps need.
      resultSelector: integration === JobIntegration.RUN_JOB
        ? { 'taskArn.$': '$.TaskArn', 'stopCode.$': '$.StopCode', 'stoppedReason.$': '$.StoppedReason' }
        : undefined,
      resultPath,
    });
    ctx.onJob(job, integration, state.jobFieldUses);
    return state;
  }

  private defaultRetry(): RetryPolicy[] {
    switch (this.kind) {
      case 'lambda': return [{ errors: LAMBDA_ERRORS, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 }];
      case 'job': return [
        // RunTask refused (capacity, throttling): try again soon.
        { errors: ['ECS.AmazonECSException'], interval: Duration.seconds(10), maxAttempts: 3, backoffRate: 2 },
        // The task ran and failed (non-zero exit, Spot interruption): try again later.
        { errors: ['States.TaskFailed'], interval: Duration.seconds(30), maxAttempts: 2, backoffRate: 2 },
      ];
      default: return [];
    }
  }
}


