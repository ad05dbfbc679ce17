import { App, Size, Stack, aws_certificatemanager as acm, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_s3 as s3, aws_s3_notifications as s3n, aws_sqs as sqs } from 'aws-cdk-lib';
import {
  ClaimCheck, ComputeRoute, ComputeTarget, DispatchTarget, EventBridgeSource, FargateJob, HybridService, JobCapacity, JobDispatcher, JobIntegration,
  JobVpc, JobVpcEndpoint, JobWorkflow,
  S3Source, WorkflowStep,
} from '../src';
import { IMAGE } from './helpers';
import { buildExamplesApp } from '../examples/app';
import { nagFindings } from '../examples/nag';

function findings(build: (stack: Stack) => void) {
  const app = new App();
  const stack = new Stack(app, 'Nag');
  build(stack);
  app.synth();
  return nagFindings(stack).map((f) => `${f.rule} at ${f.path}`);
}

describe('cdk-nag AwsSolutions + Serverless: zero unacknowledged findings', () => {
  test('JobVpc default configuration', () => {
    expect(findings((stack) => new JobVpc(stack, 'Vpc'))).toEqual([]);
  });

  test('JobVpc with endpoints only (natGateways: 0)', () => {
    expect(findings((stack) => new JobVpc(stack, 'Vpc', { natGateways: 0, endpoints: JobVpcEndpoint.forFargateJobs() }))).toEqual([]);
  });

  test('JobDispatcher with its functions in an isolated VPC, reserved concurrency and a log key', () => {
    expect(findings((stack) => {
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const network = new JobVpc(stack, 'Net', { natGateways: 0, endpoints: [...JobVpcEndpoint.forFargateJobs(), JobVpcEndpoint.SQS, JobVpcEndpoint.ECS] });
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE, vpc: network.vpc })),
        vpc: network.vpc,
        reserveConcurrency: true,
        logEncryptionKey: key,
      });
    })).toEqual([]);
  });

  test('FargateJob default configuration (the stack\'s shared VPC and cluster)', () => {
    expect(findings((stack) => new FargateJob(stack, 'Job', { image: IMAGE }))).toEqual([]);
  });

  test('JobDispatcher default configuration with an S3 and an EventBridge source', () => {
    expect(findings((stack) => {
      const bucket = new s3.Bucket(stack, 'Bucket', {
        enforceSSL: true,
        serverAccessLogsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }),
      });
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE })),
        sources: [new S3Source(bucket), new EventBridgeSource({ eventPattern: { source: ['x'] } })],
      });
    }).filter((f) => !f.includes('/Logs/'))).toEqual([]);
  });

  test('JobDispatcher with a route: a Lambda worker for small objects, the Fargate job for the rest', () => {
    expect(findings((stack) => {
      const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true, serverAccessLogsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }) });
      const worker = new lambda.Function(stack, 'Worker', {
        runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      });
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.route({
          rules: [ComputeRoute.whenSizeBelow(Size.mebibytes(100), ComputeTarget.lambdaFunction(worker))],
          otherwise: ComputeTarget.fargate(new FargateJob(stack, 'Job', { image: IMAGE })),
        }),
        sources: [new S3Source(bucket)],
      });
    }).filter((f) => !f.includes('/Logs/') && !f.includes('/Worker/'))).toEqual([]);
  });

  test('JobDispatcher with Spot capacity, maxConcurrentTasks and a KMS-encrypted claim-check bucket of the user\'s', () => {
    expect(findings((stack) => {
      const claims = new s3.Bucket(stack, 'Claims', {
        enforceSSL: true,
        encryption: s3.BucketEncryption.KMS,
        serverAccessLogsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }),
      });
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE, capacity: JobCapacity.spot() }), { maxConcurrentTasks: 20, claimCheck: ClaimCheck.s3({ bucket: claims, prefix: 'payloads/' }) }),
      });
    }).filter((f) => !f.includes('/Logs/'))).toEqual([]);
  });

  test('HybridService default configuration (internal, HTTP) and with HTTPS, public access, Spot, ECS Exec and a Lambda route', () => {
    const app = new App();
    const stacks = [new Stack(app, 'Default', { env: { region: 'eu-west-1' } }), new Stack(app, 'Full', { env: { region: 'eu-west-1' } })];
    new HybridService(stacks[0], 'Web', { image: IMAGE });
    const route = new lambda.Function(stacks[1], 'Route', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({statusCode:200})'),
    });
    new HybridService(stacks[1], 'Web', {
      image: IMAGE,
      internetFacing: true,
      allowedCidrs: ['0.0.0.0/0'],
      certificate: acm.Certificate.fromCertificateArn(stacks[1], 'Cert', 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d'),
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      enableExecuteCommand: true,
      lambdaRoutes: [{ id: 'Api', function: route, pathPatterns: ['/api/*'], priority: 1 }],
    });
    app.synth();
    expect(nagFindings(stacks[0]).map((f) => `${f.rule} at ${f.path}`)).toEqual([]);
    // the route function is the caller's: only its own findings remain
    expect(nagFindings(stacks[1]).map((f) => `${f.rule} at ${f.path}`).filter((f) => !f.includes('/Route/'))).toEqual([]);
  });

  test('JobWorkflow with a Lambda step, a .sync job, a task-token job, a Map and a source', () => {
    const app = new App();
    const stack = new Stack(app, 'Flow');
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async(e)=>e'),
    });
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    const bucket = new s3.Bucket(stack, 'Input', { enforceSSL: true, serverAccessLogsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }) });
    const workflow = new JobWorkflow(stack, 'Workflow', {
      steps: [
        WorkflowStep.invoke(fn, { name: 'Check' }),
        WorkflowStep.job(job, { name: 'Run' }),
        WorkflowStep.job(job, { name: 'Approve', integration: JobIntegration.TASK_TOKEN }),
        WorkflowStep.forEach('$.items', [WorkflowStep.invoke(fn, { name: 'Item' })], { name: 'Each' }),
      ],
    });
    new JobDispatcher(stack, 'Starter', { target: DispatchTarget.workflow(workflow), sources: [new S3Source(bucket)] });
    app.synth();
    // the function and the bucket are the caller's: only their own findings remain
    expect(nagFindings(stack).map((f) => `${f.rule} at ${f.path}`).filter((f) => !f.includes('/Fn/') && !f.includes('/Logs/'))).toEqual([]);
  });

  test.each(['S3ToFargateExample', 'SqsToFargateExample', 'EventBridgeToFargateExample', 'HybridServiceExample', 'S3WorkflowExample', 'S3RoutedExample'])('example %s', (name) => {
    const app = buildExamplesApp(new App());
    app.synth();
    expect(nagFindings(app.node.findChild(name)).map((f) => `${f.rule} at ${f.path}`)).toEqual([]);
  });
});

describe('acknowledgments are narrow', () => {
  test('a wildcard the library did not grant is still reported on the dispatcher role', () => {
    const result = findings((stack) => {
      const d = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE })) });
      (d.node.findChild('Role') as iam.Role).addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::some-bucket/*'] }));
    });
    expect(result).toEqual(['AwsSolutions-IAM5[Resource::arn:aws:s3:::some-bucket/*] at Nag/Dispatcher/Role/DefaultPolicy/Resource']);
  });

  test('the notification handler findings appear without an S3Source, so acknowledging them is needed and specific', () => {
    const result = findings((stack) => {
      const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true, serverAccessLogsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }) });
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(new sqs.Queue(stack, 'Q', { enforceSSL: true })));
    }).filter((f) => f.includes('BucketNotificationsHandler'));
    expect(result).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole] at Nag/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource',
    ]);
  });
});

describe('acknowledgments are recorded once', () => {
  test('two S3Sources in one stack and a second synth add no duplicate acknowledgment metadata', () => {
    const app = new App();
    const stack = new Stack(app, 'Twice');
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job), sources: [new S3Source(new s3.Bucket(stack, 'A')), new S3Source(new s3.Bucket(stack, 'B'))] });
    app.synth();
    app.synth({ force: true });
    const acked = (c: any) => c.node.metadata.filter((m: any) => m.type === 'aws:cdk:acknowledged-rules').flatMap((m: any) => Object.keys(m.data));
    const handlerRole = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'))!.node.findChild('Role');
    expect(acked(handlerRole)).toHaveLength(1);
    const policy = stack.node.findChild('Dispatcher').node.findChild('Role').node.findChild('DefaultPolicy').node.findChild('Resource');
    expect(acked(policy)).toHaveLength(4); // family:*, task/<cluster>/*, X-Ray, claim-check prefix
  });
});
