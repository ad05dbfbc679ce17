import { ArnFormat, aws_ecs as ecs, aws_iam as iam, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One permission: what `iam.Grant.addToPrincipal` and `iam.PolicyStatement` both take. */
export interface Permission {
  readonly actions: string[];
  readonly resourceArns: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/** What launching a job involves, without importing the job construct. */
export interface LaunchedJob extends IConstruct {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly cluster: ecs.ICluster;
  readonly taskRole: iam.IRole;
  readonly executionRole: iam.IRole;
}

/** `ecs:cluster` equal to the job's cluster: the condition of every ECS permission the library grants. */
export function inCluster(cluster: ecs.ICluster): Record<string, Record<string, unknown>> {
  return { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
}

/** `task/<cluster>/*`: the tasks of one cluster (task ids are unknown before launch). */
export function clusterTasksArn(scope: IConstruct, cluster: ecs.ICluster): string {
  return Stack.of(scope).formatArn({
    service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * Launching a job: `ecs:RunTask` on every revision of its task definition
 * family in its cluster, and `iam:PassRole` of its task and execution roles
 * to ECS tasks only. The dispatcher (`grantRun`) and a workflow's job steps
 * get exactly these.
 */
export function launchPermissions(job: LaunchedJob): Permission[] {
  const familyArn = Stack.of(job).formatArn({
    service: 'ecs', resource: 'task-definition', resourceName: `${job.taskDefinition.family}:*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  return [
    { actions: ['ecs:RunTask'], resourceArns: [familyArn], conditions: inCluster(job.cluster) },
    {
      actions: ['iam:PassRole'],
      resourceArns: [job.taskRole.roleArn, job.executionRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
  ];
}

/** Tagging tasks, only as part of the RunTask call that creates them. */
export function tagOnLaunchPermission(job: LaunchedJob): Permission {
  return { actions: ['ecs:TagResource'], resourceArns: [clusterTasksArn(job, job.cluster)], conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } } };
}

/** `actions` on the tasks of `cluster` (describe, stop), conditioned on the cluster. */
export function clusterTasksPermission(scope: IConstruct, cluster: ecs.ICluster, actions: string[]): Permission {
  return { actions, resourceArns: [clusterTasksArn(scope, cluster)], conditions: inCluster(cluster) };
}

/** `ecs:ListTasks` takes no task resource: `*`, conditioned on the cluster. */
export function listTasksPermission(cluster: ecs.ICluster): Permission {
  return { actions: ['ecs:ListTasks'], resourceArns: ['*'], conditions: inCluster(cluster) };
}

export function toStatement(p: Permission): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: p.actions, resources: p.resourceArns, conditions: p.conditions });
}

/** Grants every permission to `grantee`, as one combined grant. */
export function grantAll(grantee: iam.IGrantable, permissions: Permission[]): iam.Grant {
  return permissions
    .map((p) => iam.Grant.addToPrincipal({ grantee, actions: p.actions, resourceArns: p.resourceArns, conditions: p.conditions }))
    .reduce((a, b) => a.combine(b));
}
