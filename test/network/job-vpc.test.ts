import { App, Duration, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import {
  DispatchTarget, FargateJob, HybridService, JobDispatcher, JobVpc, JobVpcEndpoint, S3Source, SqsSource,
} from '../../src';
import { IMAGE, propertiesOf, resourceNamed } from '../helpers';

const count = (template: Template, type: string) => Object.keys(template.findResources(type)).length;

describe('one VPC and cluster per stack for constructs given neither', () => {
  /** An app with three jobs, each started by its own dispatcher from S3, and no VPC or cluster given. */
  function threeJobs() {
    const app = new App();
    const stack = new Stack(app, 'Jobs');
    const bucket = new s3.Bucket(stack, 'Input');
    const jobs = ['Resize', 'Transcode', 'Index'].map((name, i) => {
      const job = new FargateJob(stack, name, { image: IMAGE });
      new JobDispatcher(stack, `${name}Dispatcher`, { target: DispatchTarget.fargateJob(job), sources: [new S3Source(bucket, { prefix: `in${i}/` })] });
      return job;
    });
    return { app, stack, jobs, template: Template.fromStack(stack) };
  }

  test('three jobs and no VPC: one VPC, one NAT gateway, one cluster, at <stack>/JobVpc', () => {
    const { stack, jobs, template } = threeJobs();
    expect(count(template, 'AWS::EC2::VPC')).toBe(1);
    expect(count(template, 'AWS::EC2::NatGateway')).toBe(1);
    expect(count(template, 'AWS::ECS::Cluster')).toBe(1);
    const shared = JobVpc.ofStack(stack);
    expect(shared.node.path).toBe('Jobs/JobVpc');
    expect(stack.node.findChild(JobVpc.STACK_DEFAULT_ID)).toBe(shared);
    for (const job of jobs) expect(job.cluster).toBe(shared.defaultCluster());
    expect(shared.defaultCluster().node.path).toBe('Jobs/JobVpc/Cluster');
    // every job's tasks go to the shared VPC's private subnets
    const privateSubnets = stack.resolve(shared.vpc.privateSubnets.map((s) => s.subnetId));
    for (const job of jobs) expect(stack.resolve(job.subnetIds)).toEqual(privateSubnets);
  });

  test('a HybridService and a job with neither share the VPC and cluster too', () => {
    const app = new App();
    const stack = new Stack(app, 'Mixed', { env: { region: 'eu-west-1' } });
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    const web = new HybridService(stack, 'Web', { image: IMAGE });
    expect(web.cluster).toBe(job.cluster);
    const template = Template.fromStack(stack);
    expect(count(template, 'AWS::EC2::VPC')).toBe(1);
    expect(count(template, 'AWS::EC2::NatGateway')).toBe(1);
    expect(count(template, 'AWS::ECS::Cluster')).toBe(1);
  });

  test('each stack has its own: two stacks, two VPCs', () => {
    const app = new App();
    const a = new FargateJob(new Stack(app, 'A'), 'Job', { image: IMAGE });
    const b = new FargateJob(new Stack(app, 'B'), 'Job', { image: IMAGE });
    expect(a.cluster).not.toBe(b.cluster);
    expect(a.cluster.node.path).toBe('A/JobVpc/Cluster');
    expect(b.cluster.node.path).toBe('B/JobVpc/Cluster');
  });

  test('a JobVpc created at JobVpc.STACK_DEFAULT_ID first chooses the shared settings', () => {
    const app = new App();
    const stack = new Stack(app, 'Tuned');
    const network = new JobVpc(stack, JobVpc.STACK_DEFAULT_ID, { natGateways: 2 });
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    expect(JobVpc.ofStack(stack)).toBe(network);
    expect(job.cluster.vpc).toBe(network.vpc);
    expect(count(Template.fromStack(stack), 'AWS::EC2::NatGateway')).toBe(2);
  });

  test('a vpc given without a cluster: a cluster of the construct\'s own in it, and no shared JobVpc', () => {
    const app = new App();
    const stack = new Stack(app, 'Own');
    const vpc = new ec2.Vpc(stack, 'MyVpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
    const job = new FargateJob(stack, 'Job', { image: IMAGE, vpc });
    expect(job.cluster.node.path).toBe('Own/Job/Cluster');
    expect(stack.node.tryFindChild(JobVpc.STACK_DEFAULT_ID)).toBeUndefined();
    expect(count(Template.fromStack(stack), 'AWS::EC2::VPC')).toBe(1);
  });

  test('a construct of another kind at the shared id fails with what to do', () => {
    const stack = new Stack(new App(), 'Clash');
    new Construct(stack, 'JobVpc');
    expect(() => new FargateJob(stack, 'Job', { image: IMAGE })).toThrow("Clash has a construct with id 'JobVpc' that is not a JobVpc, but that id is where "
      + 'constructs given no cluster or vpc find the stack\'s shared JobVpc: rename that construct, or pass cluster or vpc to them');
  });
});

describe('endpoints only (natGateways: 0)', () => {
  function isolated() {
    const app = new App();
    const stack = new Stack(app, 'Isolated');
    const network = new JobVpc(stack, JobVpc.STACK_DEFAULT_ID, { natGateways: 0, endpoints: JobVpcEndpoint.forFargateJobs() });
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    const dispatcher = new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job),
      vpc: network.vpc,
      reserveConcurrency: true,
      sources: [new SqsSource(new sqs.Queue(stack, 'Orders', { visibilityTimeout: Duration.minutes(6) }))],
    });
    return { stack, network, job, dispatcher, template: Template.fromStack(stack) };
  }

  test('no NAT gateway, no internet gateway, no public subnet: isolated subnets only', () => {
    const { template, network } = isolated();
    expect(network.natGateways).toBe(0);
    expect(count(template, 'AWS::EC2::NatGateway')).toBe(0);
    expect(count(template, 'AWS::EC2::InternetGateway')).toBe(0);
    expect(count(template, 'AWS::EC2::EIP')).toBe(0);
    expect(propertiesOf(template, 'AWS::EC2::Subnet').map((s) => s.MapPublicIpOnLaunch)).toEqual([false, false]);
    expect(network.vpc.isolatedSubnets).toHaveLength(2);
    expect(network.vpc.publicSubnets).toHaveLength(0);
  });

  test('the endpoints a job needs to start: the S3 gateway (free) on the isolated subnets, ECR API, ECR Docker and CloudWatch Logs interfaces', () => {
    const { template, stack, network } = isolated();
    const endpoints = propertiesOf(template, 'AWS::EC2::VPCEndpoint');
    const service = (e: any) => JSON.stringify(e.ServiceName);
    expect(endpoints.map((e) => [e.VpcEndpointType ?? 'Gateway', service(e).match(/\.(s3|ecr\.api|ecr\.dkr|logs)"/)?.[1]])).toEqual([
      ['Gateway', 's3'], ['Interface', 'ecr.api'], ['Interface', 'ecr.dkr'], ['Interface', 'logs'],
    ]);
    const gateway = endpoints[0];
    expect(gateway.RouteTableIds).toEqual(stack.resolve(network.vpc.isolatedSubnets.map((s) => s.routeTable.routeTableId)));
    for (const e of endpoints.slice(1)) {
      expect(e.PrivateDnsEnabled).toBe(true);
      expect(e.SubnetIds).toEqual(stack.resolve(network.vpc.isolatedSubnets.map((s) => s.subnetId)));
      expect(e.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [resourceNamed(template, 'AWS::EC2::SecurityGroup', 'JobVpcEndpointSecurityGroup').id, 'GroupId'] }]);
    }
    // one security group for all of them: HTTPS from the VPC's range only
    expect(resourceNamed(template, 'AWS::EC2::SecurityGroup', 'JobVpcEndpointSecurityGroup').props.SecurityGroupIngress).toEqual([
      { CidrIp: '10.0.0.0/16', Description: 'HTTPS from the VPC', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
  });

  test('tasks and the dispatcher and tracker functions run in the isolated subnets; reserved concurrency is what their mappings can use', () => {
    const { template, stack, network, job } = isolated();
    const isolatedIds = stack.resolve(network.vpc.isolatedSubnets.map((s) => s.subnetId));
    expect(stack.resolve(job.subnetIds)).toEqual(isolatedIds);
    const functions = Object.entries<any>(template.findResources('AWS::Lambda::Function'));
    const dispatcher = functions.find(([id]) => id.startsWith('DispatcherFunction'))![1].Properties;
    const tracker = functions.find(([id]) => id.startsWith('DispatcherTrackerFunction'))![1].Properties;
    for (const fn of [dispatcher, tracker]) {
      expect(fn.VpcConfig.SubnetIds).toEqual(isolatedIds);
      expect(fn.VpcConfig.SecurityGroupIds).toHaveLength(1);
    }
    // the dispatch queue and the SqsSource queue at maxConcurrency 5 each; the tracker's queue at 2
    expect(dispatcher.ReservedConcurrentExecutions).toBe(10);
    expect(tracker.ReservedConcurrentExecutions).toBe(2);
    const role = resourceNamed(template, 'AWS::IAM::Role', 'DispatcherRole').props;
    expect(role.ManagedPolicyArns).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }]);
  });

  test('without vpc and reserveConcurrency, the functions have neither', () => {
    const stack = new Stack(new App(), 'Plain');
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE })) });
    for (const fn of propertiesOf(Template.fromStack(stack), 'AWS::Lambda::Function')) {
      expect(fn.VpcConfig).toBeUndefined();
      expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  test('no endpoints and no NAT gateway: a synth warning says tasks cannot start', () => {
    const stack = new Stack(new App(), 'Bare');
    new JobVpc(stack, 'Vpc', { natGateways: 0 });
    Annotations.fromStack(stack).hasWarning('/Bare/Vpc', Match.stringLikeRegexp('has no NAT gateway and no endpoints: tasks in its isolated subnets cannot pull images'));
  });

  test('an internet-facing HybridService in an isolated VPC fails with what to do', () => {
    const stack = new Stack(new App(), 'Web', { env: { region: 'eu-west-1' } });
    const network = new JobVpc(stack, 'Vpc', { natGateways: 0, endpoints: JobVpcEndpoint.forFargateJobs() });
    expect(() => new HybridService(stack, 'Web', { image: IMAGE, vpc: network.vpc, internetFacing: true, allowedCidrs: ['0.0.0.0/0'] }))
      .toThrow('Web/Web: an internet-facing service needs public subnets, but its VPC has none (a JobVpc with natGateways: 0 is isolated): '
        + 'pass a vpc or cluster with public subnets, or set internetFacing: false');
  });
});

describe('bad JobVpc props fail synth with what to change', () => {
  test.each([
    ['more NAT gateways than AZs', { natGateways: 3 }, 'natGateways must be a whole number from 0 (isolated subnets, VPC endpoints only) to maxAzs (2), got 3'],
    ['a negative NAT count', { natGateways: -1 }, 'natGateways must be a whole number from 0 (isolated subnets, VPC endpoints only) to maxAzs (2), got -1'],
    ['an endpoint listed twice', { endpoints: [JobVpcEndpoint.S3, JobVpcEndpoint.ECR, JobVpcEndpoint.S3] }, 'endpoints lists the S3 endpoint twice: list each once'],
  ])('%s', (_what, props, message) => {
    expect(() => new JobVpc(new Stack(new App(), 'Test'), 'Net', props)).toThrow(`Test/Net: ${message}`);
  });

  test('a custom interface endpoint by service', () => {
    const stack = new Stack(new App(), 'Custom');
    new JobVpc(stack, 'Net', { endpoints: [JobVpcEndpoint.interfaceEndpoint('Athena', ec2.InterfaceVpcEndpointAwsService.ATHENA)] });
    const endpoints = propertiesOf(Template.fromStack(stack), 'AWS::EC2::VPCEndpoint');
    expect(endpoints).toHaveLength(1);
    expect(JSON.stringify(endpoints[0].ServiceName)).toContain('.athena');
  });
});

test('defaultCluster() is created once, with Container Insights and the Fargate capacity providers', () => {
  const stack = new Stack(new App(), 'Once');
  const network = JobVpc.ofStack(stack);
  expect(network.defaultCluster()).toBe(network.defaultCluster());
  expect(network.defaultCluster()).toBeInstanceOf(ecs.Cluster);
  const template = Template.fromStack(stack);
  expect(propertiesOf(template, 'AWS::ECS::Cluster')).toEqual([{ ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] }]);
  expect(propertiesOf(template, 'AWS::ECS::ClusterCapacityProviderAssociations')[0].CapacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
});
