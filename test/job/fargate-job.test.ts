import { App, Stack, aws_ecs as ecs, aws_iam as iam, aws_secretsmanager as sm } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FargateJob, JobField } from '../../src';
import { IMAGE, job, propertiesOf, runStatements, stackWithCluster } from '../helpers';

describe('FargateJob defaults', () => {
  const app = new App();
  const stack = new Stack(app, 'Defaults');
  const j = new FargateJob(stack, 'Job', { image: IMAGE });
  const template = Template.fromStack(stack);

  test('creates a VPC with private subnets, NAT egress and flow logs', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(propertiesOf(template, 'AWS::EC2::Subnet').filter((s) => s.MapPublicIpOnLaunch === false)).toHaveLength(4);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  test('creates a cluster with Container Insights and Fargate capacity providers', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
  });

  test('task definition: 256 cpu / 512 MiB, X86_64 Linux, one essential container logging with retention', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '256',
      Memory: '512',
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({
        Name: 'job',
        Essential: true,
        Image: 'public.ecr.aws/docker/library/busybox:stable',
        LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
      })],
    });
    // one for the container, one for flow logs, both with 30 days
    expect(propertiesOf(template, 'AWS::Logs::LogGroup').map((l) => l.RetentionInDays)).toEqual([30, 30]);
  });

  test('security group opens nothing', () => {
    const groups = propertiesOf(template, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0].SecurityGroupIngress).toBeUndefined();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(j.connections.securityGroups).toHaveLength(1);
  });

  test('task and execution roles are assumable by ECS tasks only; the task role has no permissions', () => {
    const roles = propertiesOf(template, 'AWS::IAM::Role').filter((r) =>
      r.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'ecs-tasks.amazonaws.com');
    expect(roles).toHaveLength(2);
    const policies = propertiesOf(template, 'AWS::IAM::Policy');
    const roleOf = (p: any) => JSON.stringify(p.Roles);
    expect(policies.filter((p) => roleOf(p).includes('TaskRole'))).toHaveLength(0);
  });

  test('the subnets are the private ones', () => {
    const refs = Stack.of(j).resolve(j.subnetIds).map((r: any) => r.Ref);
    expect(refs).toEqual([expect.stringMatching(/^JobVpcPrivateSubnet1Subnet/), expect.stringMatching(/^JobVpcPrivateSubnet2Subnet/)]);
  });
});

describe('FargateJob environment and command', () => {
  test('static values live in the task definition; marker values are left to the dispatcher', () => {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster, {
      environment: { STAGE: 'prod', KEY: JobField.s3Key(), URI: `s3://${JobField.s3Bucket()}/x` },
      command: ['process', JobField.s3Uri()],
    });
    expect(j.launchEnvironment).toEqual({ KEY: '{{hc:s3.key}}', URI: 's3://{{hc:s3.bucket}}/x' });
    expect(j.launchCommand).toEqual(['process', '{{hc:s3.uri}}']);
    const container = propertiesOf(Template.fromStack(stack), 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions[0];
    expect(container.Environment).toEqual([{ Name: 'STAGE', Value: 'prod' }]);
    expect(container.Command).toBeUndefined();
  });

  test('a static command stays in the task definition', () => {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster, { command: ['echo', 'hi'] });
    expect(j.launchCommand).toBeUndefined();
    const container = propertiesOf(Template.fromStack(stack), 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions[0];
    expect(container.Command).toEqual(['echo', 'hi']);
  });

  test('secrets are injected by ECS and readable by the execution role only', () => {
    const { stack, cluster } = stackWithCluster();
    const secret = new sm.Secret(stack, 'Secret');
    job(stack, cluster, { secrets: { TOKEN: ecs.Secret.fromSecretsManager(secret) } });
    const template = Template.fromStack(stack);
    const container = propertiesOf(template, 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions[0];
    expect(container.Secrets).toEqual([{ Name: 'TOKEN', ValueFrom: { Ref: expect.stringMatching(/^Secret/) } }]);
    const policies = propertiesOf(template, 'AWS::IAM::Policy');
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0].Roles)).toContain('JobExecutionRole');
  });

  test('cpu architecture and ephemeral storage are passed through', () => {
    const { stack, cluster } = stackWithCluster();
    job(stack, cluster, { cpu: 1024, memoryLimitMiB: 4096, cpuArchitecture: ecs.CpuArchitecture.ARM64, ephemeralStorageGiB: 50 });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '4096',
      EphemeralStorage: { SizeInGiB: 50 },
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
  });
});

describe('FargateJob bad props fail with a message that says what to change', () => {
  test.each([
    [{ cpu: 256, memoryLimitMiB: 4096 }, 'memoryLimitMiB 4096 is not valid with cpu 256 on Fargate: use 512, 1024-2048 in steps of 1024 MiB'],
    [{ cpu: 300, memoryLimitMiB: 1024 }, 'cpu 300 is not a Fargate task size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384'],
    [{ cpu: 8192, memoryLimitMiB: 20000 }, 'memoryLimitMiB 20000 is not valid with cpu 8192 on Fargate: use 16384-61440 in steps of 4096 MiB'],
    [{ ephemeralStorageGiB: 10 }, 'ephemeralStorageGiB must be a whole number from 21 to 200, got 10'],
    [{ containerName: JobField.jobId() }, 'JobField markers cannot be used in containerName'],
    [{ family: `f-${JobField.s3Key()}` }, 'JobField markers cannot be used in family'],
    [{ entryPoint: [JobField.body()] }, 'JobField markers cannot be used in entryPoint'],
    [{ image: ecs.ContainerImage.fromRegistry(JobField.s3Key()) }, 'JobField markers cannot be used in image'],
    [{ environment: { [JobField.s3Key()]: 'x' } }, 'JobField markers cannot be used in the name of environment variable'],
    [{ securityGroups: [] }, 'a Fargate task takes 1 to 5 security groups, got 0'],
  ])('%j', (props, message) => {
    const { stack, cluster } = stackWithCluster();
    expect(() => job(stack, cluster, props as any)).toThrow(message);
  });

  test('every valid Fargate size is accepted', () => {
    const valid: Array<[number, number]> = [
      [256, 512], [256, 2048], [512, 4096], [1024, 8192], [2048, 16384], [4096, 30720], [8192, 61440], [16384, 122880],
    ];
    valid.forEach(([cpu, memoryLimitMiB], i) => {
      const { stack, cluster } = stackWithCluster();
      expect(() => job(stack, cluster, { cpu, memoryLimitMiB }, `Job${i}`)).not.toThrow();
    });
  });
});

describe('FargateJob.grantRun', () => {
  test('grants exactly RunTask on the family in the cluster, PassRole on the two roles to ECS tasks, TagResource at launch', () => {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster, { family: 'my-job' });
    const role = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    j.grantRun(role);
    const template = Template.fromStack(stack);
    const policy = propertiesOf(template, 'AWS::IAM::Policy').find((p) => JSON.stringify(p.Roles).includes('Launcher'));
    const taskRole = Object.keys(template.findResources('AWS::IAM::Role')).find((k) => k.startsWith('JobTaskRole'));
    const execRole = Object.keys(template.findResources('AWS::IAM::Role')).find((k) => k.startsWith('JobExecutionRole'));
    const clusterId = Object.keys(template.findResources('AWS::ECS::Cluster'))[0];
    expect(policy.PolicyDocument.Statement).toEqual(runStatements({ family: 'my-job', cluster: clusterId, taskRole: taskRole!, executionRole: execRole! }));
  });
});
