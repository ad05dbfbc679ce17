import {
  Duration, aws_cloudwatch as cloudwatch, aws_events as events, aws_iam as iam,
  aws_kms as kms, aws_logs as logs, aws_sns as sns, aws_stepfunctions as sfn, aws_stepfunctions_tasks as tasks,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import type { JobFieldUse } from './fargate-job-state';
import { JobIntegration, StepContext, WorkflowStep } from './workflow-step';
import { DETAIL_TYPE_WORKFLOW_FAILED, EVENT_SOURCE } from '../contract/names';
import { AlarmFactory } from '../internal/alarms';
import { constructError, withPath } from '../internal/errors';
import { libraryLogGroup } from '../internal/log-group';
import { acknowledgeCompliance, acknowledgeWildcardResources, XRAY_WILDCARD } from '../internal/nag';
import { IFargateJob } from '../job/fargate-job';

/** A workflow that a dispatcher can start. */
export interface IJobWorkflow extends IConstruct {
  /** The state machine each job starts an execution of. */
  readonly stateMachine: sfn.IStateMachine;
}

/** Where a failed step reports before the execution fails. */
export class WorkflowFailureHandler {
  /** Publish `{ error, input }` to an SNS topic. */
  public static topic(topic: sns.ITopic): WorkflowFailureHandler {
    return new WorkflowFailureHandler(topic, undefined);
  }

  /**
   * Put a `Workflow Failed` event (`source: cdk-hybrid-compute`, detail
   * `{ error, input }`) on a bus.
   * @param bus - default: the account's default event bus
   */
  public static eventBus(bus?: events.IEventBus): WorkflowFailureHandler {
    return new WorkflowFailureHandler(undefined, bus ?? 'default');
  }

  private constructor(private readonly topic: sns.ITopic | undefined, private readonly bus: events.IEventBus | 'default' | undefined) {}

  /** @internal */
  public _render(scope: Construct): sfn.IChainable {
    const failed = new sfn.Fail(scope, 'Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    if (this.topic) {
      return new tasks.SnsPublish(scope, 'Report failure', {
        topic: this.topic,
        message: sfn.TaskInput.fromObject({ 'error.$': '$.error', 'input.$': '$' }),
        resultPath: sfn.JsonPath.DISCARD,
      }).next(failed);
    }
    const bus = this.bus === 'default' || this.bus === undefined ? events.EventBus.fromEventBusName(scope, 'DefaultBus', 'default') : this.bus;
    return new tasks.EventBridgePutEvents(scope, 'Report failure', {
      entries: [{
        eventBus: bus,
        source: EVENT_SOURCE,
        detailType: DETAIL_TYPE_WORKFLOW_FAILED,
        detail: sfn.TaskInput.fromObject({ 'error.$': '$.error', 'input.$': '$', 'execution.$': '$$.Execution.Id' }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    }).next(failed);
  }
}

/** Properties of a `JobWorkflow`. */
export interface JobWorkflowProps {
  /** The steps, in order. */
  readonly steps: WorkflowStep[];

  /**
   * Where a step that fails after its retries reports, before the execution fails.
   * @default WorkflowFailureHandler.eventBus() - a `Workflow Failed` event on the default bus
   */
  readonly failureHandler?: WorkflowFailureHandler;

  /**
   * What the execution log records: `ALL` (every state transition) or `ERROR`.
   * @default sfn.LogLevel.ALL
   */
  readonly logLevel?: sfn.LogLevel;

  /**
   * How long an execution may run.
   * @default Duration.hours(24)
   */
  readonly timeout?: Duration;

  /**
   * Where the alarms on failed and timed-out executions notify.
   * @default - the topic of a `ComplianceDefaults` aspect over this construct; else alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Retention of the execution log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the execution log (its policy must let CloudWatch Logs use
   * it; a key of this app gets that statement).
   * @default - CloudWatch Logs' service-side encryption (the log records no execution data)
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * A Step Functions state machine assembled from `WorkflowStep`s: Lambda
 * steps, Fargate jobs (`.sync` or task token), Map fan-out and parallel
 * branches, each with Retry defaults and one Catch to a failure handler;
 * results trimmed and kept under `$.steps`; an encrypted execution log,
 * X-Ray tracing, and alarms on failed and timed-out executions. Start it from
 * events with a `JobDispatcher` whose target is `DispatchTarget.workflow(this)`
 * (one execution per job, named after the job id, so a redelivered event
 * cannot start a second); its job steps resolve their `JobField` markers
 * from that execution input.
 */
export class JobWorkflow extends Construct implements IJobWorkflow {
  public readonly stateMachine: sfn.IStateMachine;
  /** The role the state machine runs as. */
  public readonly role: iam.IRole;
  public readonly logGroup: logs.LogGroup;
  public readonly alarms: cloudwatch.Alarm[];
  /** The marker templates the job steps resolve from the execution input. @internal */
  public readonly _jobFieldUses: JobFieldUse[] = [];
  private readonly tokenJobs = new Set<IFargateJob>();

  constructor(scope: Construct, id: string, props: JobWorkflowProps) {
    super(scope, id);
    if (props.steps.length === 0) throw constructError(this, 'a workflow needs at least one step');

    const definition = new Construct(this, 'Definition');
    const onError = (props.failureHandler ?? WorkflowFailureHandler.eventBus())._render(definition);
    const ctx: StepContext = {
      scope: definition,
      onError,
      names: new Set(),
      resultPaths: new Map(),
      onJob: (job, integration, uses) => {
        if (integration === JobIntegration.TASK_TOKEN) this.tokenJobs.add(job);
        this._jobFieldUses.push(...uses);
      },
    };
    const chain = withPath(this, () => WorkflowStep.chain(props.steps)._render(ctx, '1'));
    chain.end.next(new sfn.Succeed(definition, 'Done'));
    // Step results go under $.steps: create it, so each ResultPath has a parent.
    const init = new sfn.Pass(definition, 'Init', { result: sfn.Result.fromObject({}), resultPath: '$.steps' });
    init.next(chain.start);

    this.logGroup = libraryLogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      purpose: `the execution log of the ${this.node.path} workflow (state transitions without execution data)`,
      encryptionKey: props.logEncryptionKey,
    });
    const machine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromChainable(init),
      timeout: props.timeout ?? Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: props.logLevel ?? sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.stateMachine = machine;
    this.role = machine.role;
    for (const job of this.tokenJobs) this.grantTaskResponse(job.taskRole);

    const alarms = new AlarmFactory(this, this, props.alarmTopic);
    alarms.add('FailedAlarm', 'an execution failed', this.stateMachine.metricFailed({ statistic: 'Sum', period: Duration.minutes(5) }), 1);
    alarms.add('TimedOutAlarm', 'an execution timed out', this.stateMachine.metricTimedOut({ statistic: 'Sum', period: Duration.minutes(5) }), 1);
    this.alarms = alarms.alarms;
    this.acknowledgeNagFindings();
  }

  /**
   * Lets `grantee` answer the task tokens of this workflow (SendTaskSuccess,
   * SendTaskFailure, SendTaskHeartbeat). The task roles of `TASK_TOKEN` jobs
   * get it automatically.
   */
  public grantTaskResponse(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantTaskResponse(grantee);
  }

  /** Lets `grantee` start executions of this workflow. */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  private acknowledgeNagFindings(): void {
    acknowledgeCompliance(this.role, [{
      rule: 'IAMNoInlinePolicy',
      reason: `The role of the ${this.node.path} state machine is used by it alone: its inline default policy holds exactly what its steps `
        + 'call (a strict one-to-one policy, the case AWS recommends inline policies for).',
    }]);
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeWildcardResources(policy, [
        XRAY_WILDCARD,
        {
          matches: (resource, actions) => resource === '*' && actions.every((a) => a.startsWith('logs:')),
          reason: 'Step Functions log delivery (logs:CreateLogDelivery, PutResourcePolicy, …) supports no resource-level permissions.',
        },
        {
          matches: (resource, actions) => actions.every((a) => a === 'ecs:StopTask' || a === 'ecs:DescribeTasks') && /:task\/[^/]+\/\*$/.test(resource),
          reason: 'A job step stops and describes the task it started, whose id is unknown before launch: tasks of the job\'s cluster only, conditioned on ecs:cluster.',
        },
        {
          matches: (resource, actions) => actions.length === 1 && actions[0] === 'ecs:RunTask' && /:task-definition\/[^/]+:\*$/.test(resource),
          reason: 'RunTask on every revision of the job\'s task definition family (family:*), so a redeployed job keeps running; conditioned on ecs:cluster.',
        },
        {
          matches: (resource, actions) => actions.every((a) => a.startsWith('lambda:InvokeFunction')) && resource.endsWith(':*'),
          reason: 'Invoking the versions and aliases of the step\'s own function.',
        },
      ]);
    }
    for (const job of this.tokenJobs) {
      const taskPolicy = job.taskRole.node.tryFindChild('DefaultPolicy');
      if (taskPolicy) {
        acknowledgeWildcardResources(taskPolicy, [{
          matches: (resource, actions) => actions.every((a) => a.startsWith('states:SendTask')) && resource === '*',
          reason: 'SendTaskSuccess/Failure/Heartbeat take no resource: the task token itself names the execution.',
        }]);
      }
    }
  }
}
