import { App, Stack, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateJob, FargateJobProps } from '../src';

export const IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable');

/** A stack with a VPC and cluster of its own, so templates stay small. */
export function stackWithCluster(id = 'Test'): { app: App; stack: Stack; vpc: ec2.Vpc; cluster: ecs.Cluster } {
  const app = new App();
  const stack = new Stack(app, id);
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  return { app, stack, vpc, cluster };
}

export function job(stack: Stack, cluster: ecs.ICluster, props: Partial<FargateJobProps> = {}, id = 'Job'): FargateJob {
  return new FargateJob(stack, id, { image: IMAGE, cluster, ...props });
}

/** The resources of one type, as a list of their properties. */
export function propertiesOf(template: Template, type: string): any[] {
  return Object.values(template.findResources(type)).map((r: any) => r.Properties);
}

/** The single resource of a type whose logical id starts with `prefix`. */
export function resourceNamed(template: Template, type: string, prefix: string): { id: string; props: any } {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) {
    throw new Error(`expected one ${type} starting with ${prefix}, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  }
  return { id: found[0][0], props: (found[0][1] as any).Properties };
}

/** `arn:<partition>:ecs:<region>:<account>` followed by `suffix`, as CDK renders it. */
export function ecsArn(suffix: unknown[]) {
  return {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ...suffix]],
  };
}

/** The exact statements `FargateJob.grantRun()` adds, for the given logical ids. */
export function runStatements(ids: { family: string; cluster: string; taskRole: string; executionRole: string }) {
  return [
    {
      Action: 'ecs:RunTask',
      Effect: 'Allow',
      Resource: ecsArn([`:task-definition/${ids.family}:*`]),
      Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [ids.cluster, 'Arn'] } } },
    },
    {
      Action: 'iam:PassRole',
      Effect: 'Allow',
      Resource: [{ 'Fn::GetAtt': [ids.taskRole, 'Arn'] }, { 'Fn::GetAtt': [ids.executionRole, 'Arn'] }],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      Action: 'ecs:TagResource',
      Effect: 'Allow',
      Resource: ecsArn([':task/', { Ref: ids.cluster }, '/*']),
      Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    },
  ];
}

/** The dispatcher config rendered into the `DispatcherFunction`'s environment, CloudFormation tokens as `<{...}>`. */
export function renderedConfig(stack: Stack, functionPrefix = 'DispatcherFunction'): any {
  const fn = resourceNamed(Template.fromStack(stack), 'AWS::Lambda::Function', functionPrefix).props;
  const joined = fn.Environment.Variables.HC_DISPATCH_CONFIG['Fn::Join'][1]
    .map((p: any) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return JSON.parse(joined);
}

/** The tracker config a tracker function carries, with each token written as `<{'Ref':'X'}>`. */
export function renderedTrackerConfig(template: Template, functionPrefix = 'DispatcherTrackerFunction'): any {
  const fn = resourceNamed(template, 'AWS::Lambda::Function', functionPrefix).props;
  const joined = fn.Environment.Variables.HC_TRACKER_CONFIG['Fn::Join'][1]
    .map((p: any) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return JSON.parse(joined);
}
