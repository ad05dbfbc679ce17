import { Aws, aws_iam as iam, aws_stepfunctions as sfn, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { fieldsIn, MARKER_PATTERN, PAYLOAD_URI_FIELD, workflowFieldPath } from '../contract/job-fields';
import { TASK_TOKEN_ENV } from '../contract/names';
import { IFargateJob } from '../job/fargate-job';
import { clusterTasksPermission, launchPermissions, toStatement } from '../job/grants';

/** A marker template a job step resolves, and where it stands (for synth errors and source validation). */
export interface JobFieldUse {
  readonly where: string;
  readonly template: string;
}

/** What a Fargate job step runs. */
export interface FargateJobStateProps extends sfn.TaskStateBaseProps {
  readonly job: IFargateJob;
  /** The step's own environment entries (state paths, markers or literals). */
  readonly stepEnvironment: Record<string, string>;
  /** Wait for the task token (`HC_TASK_TOKEN`) instead of the task's end. */
  readonly taskToken: boolean;
}

/**
 * A Step Functions `ecs:runTask` state that launches a `FargateJob` the way
 * the dispatcher does: the task definition revision deployed with the stack,
 * the job's capacity (launch type or capacity provider strategy) and platform
 * version, its subnets and security groups without a public IP, and the job's
 * `JobField` markers (environment and command) resolved from the execution
 * input a `JobDispatcher` started (`$$.Execution.Input.job`), so they resolve
 * in any state, inside a Map or Parallel too. A marker a workflow cannot
 * resolve fails synth, naming the step.
 *
 * Its IAM is the dispatcher's (`launchPermissions`: RunTask on the family in
 * the job's cluster, PassRole of the job's roles to ECS tasks only), plus
 * StopTask/DescribeTasks on the cluster's tasks and, for `.sync`, the managed
 * rule Step Functions uses to follow the task.
 */
export class FargateJobState extends sfn.TaskStateBase {
  /** The marker templates this step resolves. */
  public readonly jobFieldUses: JobFieldUse[] = [];
  protected readonly taskMetrics?: sfn.TaskMetricsConfig;
  protected readonly taskPolicies?: iam.PolicyStatement[];
  private readonly runTaskParameters: Record<string, unknown>;
  private readonly suffix: string;
  private readonly stepName: string;

  constructor(scope: Construct, id: string, props: FargateJobStateProps) {
    super(scope, id, props);
    this.stepName = id;
    const job = props.job;
    const environment: Array<Record<string, string>> = [];
    for (const [name, value] of Object.entries(job.launchEnvironment).sort(([a], [b]) => a.localeCompare(b))) {
      environment.push({ Name: name, Value: this.resolve(`environment variable ${name} of ${job.node.path}`, value) });
    }
    for (const [name, value] of Object.entries(props.stepEnvironment)) {
      const resolved = value === '$' || value.startsWith('$.') ? sfn.JsonPath.stringAt(value) : this.resolve(`environment variable ${name}`, value);
      environment.push({ Name: name, Value: resolved });
    }
    if (props.taskToken) environment.push({ Name: TASK_TOKEN_ENV, Value: sfn.JsonPath.taskToken });
    const command = job.launchCommand?.map((part, i) => this.resolve(`command entry ${i} of ${job.node.path}`, part));
    const container = {
      Name: job.containerName,
      ...(environment.length ? { Environment: environment } : {}),
      ...(command ? { Command: command.some((c) => sfn.JsonPath.isEncodedJsonPath(c)) ? sfn.JsonPath.array(...command) : command } : {}),
    };
    const strategy = job.capacity.strategy;
    this.runTaskParameters = {
      Cluster: job.cluster.clusterArn,
      TaskDefinition: job.taskDefinition.taskDefinitionArn,
      ...(strategy
        ? { CapacityProviderStrategy: strategy.map((s) => ({ CapacityProvider: s.capacityProvider, Weight: s.weight, Base: s.base })) }
        : { LaunchType: 'FARGATE' }),
      ...(job.platformVersion ? { PlatformVersion: job.platformVersion } : {}),
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: job.subnetIds,
          SecurityGroups: job.securityGroups.map((sg) => sg.securityGroupId),
          AssignPublicIp: 'DISABLED',
        },
      },
      ...(environment.length || command ? { Overrides: { ContainerOverrides: [container] } } : {}),
    };
    this.suffix = props.taskToken ? '.waitForTaskToken' : '.sync';
    const statements = [
      ...launchPermissions(job),
      clusterTasksPermission(this, job.cluster, ['ecs:StopTask', 'ecs:DescribeTasks']),
    ].map(toStatement);
    if (!props.taskToken) {
      statements.push(new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForECSTaskRule' })],
      }));
    }
    this.taskPolicies = statements;
  }

  /** @internal */
  protected _renderTask(): any {
    return {
      Resource: `arn:${Aws.PARTITION}:states:::ecs:runTask${this.suffix}`,
      ...this._renderParametersOrArguments(this.runTaskParameters, sfn.QueryLanguage.JSON_PATH),
    };
  }

  /**
   * A template as the state passes it: the literal when it has no marker, the
   * field's path when it is one marker, or `States.Format` around the markers.
   */
  private resolve(where: string, template: string): string {
    const fields = fieldsIn(template);
    if (fields.length === 0) return template;
    this.jobFieldUses.push({ where: `${where} (workflow step '${this.stepName}')`, template });
    const values = fields.map((field) => {
      const path = workflowFieldPath(field);
      if (!path) {
        const what = field === PAYLOAD_URI_FIELD
          ? 'JobField.payloadUri() (a workflow input has no claim-check document: keep large data in S3 and pass its key)'
          : `the unknown job field '${field}' (build markers with the JobField factories)`;
        throw new Error(`workflow step '${this.stepName}': ${where} uses ${what}`);
      }
      if (path.json) return sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt(path.path));
      return field.startsWith('path:') ? sfn.JsonPath.format('{}', sfn.JsonPath.stringAt(path.path)) : sfn.JsonPath.stringAt(path.path);
    });
    const literals = template.split(MARKER_PATTERN).filter((_, i) => i % 2 === 0);
    if (fields.length === 1 && literals.every((l) => l === '')) return values[0];
    const format = literals.map((l) => l.replace(/[{}]/g, (c) => `\\${c}`)).join('{}');
    return sfn.JsonPath.format(format, ...values);
  }
}
