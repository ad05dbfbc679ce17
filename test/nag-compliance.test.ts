import {
  App, Aspects, Size, Stack, Validations, aws_certificatemanager as acm, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs,
  aws_s3 as s3, aws_sns as sns,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { IMAGE } from './helpers';
import { buildExamplesApp } from '../examples/app';
import { complianceFindings } from '../examples/nag';
import {
  ClaimCheck, ComplianceDefaults, ComputeRoute, ComputeTarget, DispatchTarget, EventBridgeSource, FargateJob, HybridService, JobCapacity,
  JobDispatcher, JobIntegration, JobVpc, JobVpcEndpoint, JobWorkflow, S3Source, WorkflowStep,
} from '../src';

/**
 * The NIST 800-53 R5 and HIPAA Security packs over every construct's default
 * configuration and every example: zero unacknowledged findings. Findings
 * on resources a test passes in (its buckets, functions) are the caller's
 * and are listed by exact path, so a finding on a library resource under
 * them (the S3 notification policy) is still checked.
 */
function findings(build: (stack: Stack) => void, callers: string[] = []): string[] {
  const app = new App();
  const stack = new Stack(app, 'Nag', { env: { region: 'eu-west-1' } });
  build(stack);
  app.synth();
  return complianceFindings(stack).filter((f) => !callers.some((c) => f.path === `Nag/${c}`)).map((f) => `${f.rule} at ${f.path}`);
}

/** A user bucket with what AwsSolutions asks for (its NIST findings are the user's). */
function userBucket(stack: Stack, id: string): s3.Bucket {
  return new s3.Bucket(stack, id, { enforceSSL: true, serverAccessLogsBucket: new s3.Bucket(stack, `${id}Logs`, { enforceSSL: true }) });
}
const USER_BUCKET = (id: string) => [`${id}/Resource`, `${id}Logs/Resource`];
const USER_FUNCTION = (id: string) => [`${id}/Resource`, `${id}/ServiceRole/DefaultPolicy/Resource`];

function fn(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async (e) => e'),
  });
}

describe('NIST 800-53 R5 + HIPAA Security: zero unacknowledged findings', () => {
  test('JobVpc default configuration', () => {
    expect(findings((stack) => new JobVpc(stack, 'Vpc'))).toEqual([]);
  });

  test('JobVpc with endpoints only (natGateways: 0) and a restricted default security group', () => {
    expect(findings((stack) => new JobVpc(stack, 'Vpc', {
      natGateways: 0, endpoints: JobVpcEndpoint.forFargateJobs(), restrictDefaultSecurityGroup: true,
    }))).toEqual([]);
  });

  test('FargateJob default configuration (the stack\'s shared VPC and cluster)', () => {
    expect(findings((stack) => new FargateJob(stack, 'Job', { image: IMAGE }))).toEqual([]);
  });

  test('JobDispatcher default configuration with an S3 and an EventBridge source', () => {
    expect(findings((stack) => {
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE })),
        sources: [new S3Source(userBucket(stack, 'Bucket')), new EventBridgeSource({ eventPattern: { source: ['x'] } })],
      });
    }, USER_BUCKET('Bucket'))).toEqual([]);
  });

  test('JobDispatcher with a route to a Lambda worker', () => {
    expect(findings((stack) => {
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.route({
          rules: [ComputeRoute.whenSizeBelow(Size.mebibytes(100), ComputeTarget.lambdaFunction(fn(stack, 'Worker')))],
          otherwise: ComputeTarget.fargate(new FargateJob(stack, 'Job', { image: IMAGE })),
        }),
        sources: [new S3Source(userBucket(stack, 'Bucket'))],
      });
    }, [...USER_BUCKET('Bucket'), ...USER_FUNCTION('Worker')])).toEqual([]);
  });

  test('JobDispatcher with Spot, a task cap, a KMS-encrypted claim-check bucket of the user\'s, and its functions in an isolated VPC '
    + 'with reserved concurrency and a log key', () => {
    expect(findings((stack) => {
      const key = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });
      const network = new JobVpc(stack, 'Net', {
        natGateways: 0,
        endpoints: [
          ...JobVpcEndpoint.forFargateJobs(),
          JobVpcEndpoint.DYNAMODB, JobVpcEndpoint.SQS, JobVpcEndpoint.ECS, JobVpcEndpoint.EVENTBRIDGE, JobVpcEndpoint.XRAY,
        ],
        logEncryptionKey: key,
      });
      const claims = new s3.Bucket(stack, 'Claims', {
        enforceSSL: true, encryption: s3.BucketEncryption.KMS, serverAccessLogsBucket: new s3.Bucket(stack, 'ClaimsLogs', { enforceSSL: true }),
      });
      const job = new FargateJob(stack, 'Job', { image: IMAGE, vpc: network.vpc, capacity: JobCapacity.spot(), logEncryptionKey: key });
      new JobDispatcher(stack, 'Dispatcher', {
        target: DispatchTarget.fargateJob(job, { maxConcurrentTasks: 20, claimCheck: ClaimCheck.s3({ bucket: claims, prefix: 'payloads/' }) }),
        vpc: network.vpc,
        reserveConcurrency: true,
        logEncryptionKey: key,
      });
    }, USER_BUCKET('Claims'))).toEqual([]);
  });

  test('HybridService default configuration (internal, HTTP)', () => {
    expect(findings((stack) => new HybridService(stack, 'Web', { image: IMAGE }))).toEqual([]);
  });

  test('HybridService with HTTPS, public access, WAF-less, deletion protection, Spot, ECS Exec and a Lambda route', () => {
    expect(findings((stack) => new HybridService(stack, 'Web', {
      image: IMAGE,
      internetFacing: true,
      allowedCidrs: ['0.0.0.0/0'],
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d'),
      deletionProtection: true,
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      enableExecuteCommand: true,
      lambdaRoutes: [{ id: 'Api', function: fn(stack, 'Route'), pathPatterns: ['/api/*'], priority: 1 }],
    }), USER_FUNCTION('Route'))).toEqual([]);
  });

  test('JobWorkflow with a Lambda step, a .sync job, a task-token job, a Map and a source', () => {
    expect(findings((stack) => {
      const f = fn(stack, 'Fn');
      const job = new FargateJob(stack, 'Job', { image: IMAGE });
      const workflow = new JobWorkflow(stack, 'Workflow', {
        steps: [
          WorkflowStep.invoke(f, { name: 'Check' }),
          WorkflowStep.job(job, { name: 'Run' }),
          WorkflowStep.job(job, { name: 'Approve', integration: JobIntegration.TASK_TOKEN }),
          WorkflowStep.forEach('$.items', [WorkflowStep.invoke(f, { name: 'Item' })], { name: 'Each' }),
        ],
      });
      new JobDispatcher(stack, 'Starter', { target: DispatchTarget.workflow(workflow), sources: [new S3Source(userBucket(stack, 'Input'))] });
    }, [...USER_BUCKET('Input'), ...USER_FUNCTION('Fn')])).toEqual([]);
  });

  test.each(['S3ToFargateExample', 'SqsToFargateExample', 'EventBridgeToFargateExample', 'S3WorkflowExample', 'S3RoutedExample', 'HybridServiceExample'])(
    'example %s', (name) => {
      const app = buildExamplesApp(new App());
      app.synth();
      expect(complianceFindings(app.node.findChild(name)).map((f) => `${f.rule} at ${f.path}`)).toEqual([]);
    });
});

/** Every NIST/HIPAA acknowledgment under `scope`: [construct path, id, reason]. */
function complianceAcks(scope: IConstruct): Array<[string, string, string]> {
  return scope.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>))
    .map(([id, reason]) => [c.node.path, id.replace(/^annotation::/i, ''), reason] as [string, string, string])
    .filter(([, id]) => /^(NIST\.800\.53\.R5|HIPAA\.Security)-/.test(id)));
}

/** What a reason must name, by rule: the kind of resource it is about. */
const NAMES: Array<[RegExp, RegExp]> = [
  [/CloudWatchLogGroupEncrypted/, /log/i],
  [/CloudWatchAlarmAction/, /alarm/i],
  [/^.*-Lambda/, /function/i],
  [/IAMNoInlinePolicy/, /role|policy/i],
  [/-S3/, /bucket/i],
  [/-VPC/, /VPC|subnet/i],
  [/DynamoDB/, /ledger|table/i],
  [/ALB|ELB/, /load balancer|listener/i],
];

describe('every NIST/HIPAA acknowledgment has a reason that names the resource', () => {
  const app = buildExamplesApp(new App());
  app.synth();
  const acks = complianceAcks(app);

  test('the examples carry acknowledgments of both packs', () => {
    expect(acks.filter(([, id]) => id.startsWith('NIST')).length).toBeGreaterThan(50);
    expect(acks.filter(([, id]) => id.startsWith('HIPAA')).length).toBeGreaterThan(50);
  });

  test.each(NAMES.map(([rule, names]) => [rule.source, names]))('%s reasons are specific and name the resource (%s)', (ruleSource, names) => {
    const matching = acks.filter(([, id]) => new RegExp(ruleSource as string).test(id));
    expect(matching.length).toBeGreaterThan(0);
    for (const [path, id, reason] of matching) {
      expect({ path, id, long: reason.length >= 40, named: (names as RegExp).test(reason) }).toEqual({ path, id, long: true, named: true });
    }
  });

  test('every acknowledged NIST/HIPAA rule is one of the rules above', () => {
    const unchecked = acks.filter(([, id]) => !NAMES.some(([rule]) => rule.test(id)));
    expect(unchecked).toEqual([]);
  });
});

describe('acknowledgments are narrow', () => {
  test('an alarm with a topic, and a log group with a key, carry no acknowledgment: they comply', () => {
    const app = new App();
    const stack = new Stack(app, 'Narrow');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const job = new FargateJob(stack, 'Job', { image: IMAGE, logEncryptionKey: key });
    const d = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job), alarmTopic: new sns.Topic(stack, 'Topic'), logEncryptionKey: key });
    app.synth();
    const ids = (c: IConstruct) => complianceAcks(c).map(([, id]) => id);
    expect(ids(job.logGroup)).toEqual([]);
    expect(ids(d.logGroup)).toEqual([]);
    for (const alarm of d.alarms) expect(ids(alarm)).toEqual([]);
  });

  test('a log group and a task role the user passes in are left alone: their findings remain', () => {
    const result = findings((stack) => {
      const taskRole = new iam.Role(stack, 'MyTaskRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      taskRole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::my-bucket/*'] }));
      const logGroup = new logs.LogGroup(stack, 'MyLogs', { retention: logs.RetentionDays.ONE_WEEK });
      new FargateJob(stack, 'Job', { image: IMAGE, taskRole, logGroup });
      Aspects.of(stack).add(new ComplianceDefaults({ logEncryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) }));
    });
    expect(result.sort()).toEqual([
      'HIPAA.Security-CloudWatchLogGroupEncrypted at Nag/MyLogs/Resource',
      'HIPAA.Security-IAMNoInlinePolicy at Nag/MyTaskRole/DefaultPolicy/Resource',
      'NIST.800.53.R5-CloudWatchLogGroupEncrypted at Nag/MyLogs/Resource',
      'NIST.800.53.R5-IAMNoInlinePolicy at Nag/MyTaskRole/DefaultPolicy/Resource',
    ]);
  });
});

describe('ComplianceDefaults', () => {
  type Defaults = (shared: { topic: sns.ITopic; key: kms.IKey }) => ConstructorParameters<typeof ComplianceDefaults>[0];
  function app2(defaults: Defaults, ownTopic = false) {
    const app = new App();
    const shared = new Stack(app, 'Shared');
    const topic = new sns.Topic(shared, 'AlarmTopic');
    const key = new kms.Key(shared, 'LogKey', { enableKeyRotation: true });
    const stack = new Stack(app, 'Jobs');
    const userLogs = new logs.LogGroup(stack, 'UserLogs');
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    const other = new FargateJob(stack, 'Other', { image: IMAGE, logGroup: userLogs });
    const d = new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job),
      ...(ownTopic ? { alarmTopic: new sns.Topic(stack, 'OwnTopic') } : {}),
    });
    Aspects.of(app).add(new ComplianceDefaults(defaults({ topic, key })));
    const asm = app.synth();
    return { asm, stack, job, other, d, topic, key };
  }

  test('one topic for every alarm of the app, one key for every library log group; a log group of the user\'s is not touched', () => {
    const { asm, d } = app2(({ topic, key }) => ({ alarmTopic: topic, logEncryptionKey: key }));
    const template = asm.getStackByName('Jobs').template;
    const alarms = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(d.alarms.length);
    expect(alarms.length).toBe(6);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ 'Fn::ImportValue': expect.stringMatching(/^Shared:ExportsOutputRefAlarmTopic/) }]);
    const logGroups = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');
    const encrypted = logGroups.filter(([, r]) => r.Properties.KmsKeyId).map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort();
    expect(encrypted).toEqual(['DispatcherLogGroup', 'DispatcherTrackerLogGroup', 'JobLogGroup', 'JobVpcFlowLogs']);
    expect(logGroups.find(([id]) => id.startsWith('UserLogs'))![1].Properties.KmsKeyId).toBeUndefined();
    // the key's policy lets CloudWatch Logs use it, once
    const keyPolicy = Object.values<any>(asm.getStackByName('Shared').template.Resources).find((r) => r.Type === 'AWS::KMS::Key').Properties.KeyPolicy;
    expect(keyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes('logs.'))).toHaveLength(1);
  });

  test('a construct\'s own alarmTopic wins: its alarms notify only it', () => {
    const { asm } = app2(({ topic }) => ({ alarmTopic: topic }), true);
    const alarms = Object.values<any>(asm.getStackByName('Jobs').template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OwnTopic/) }]);
  });

  test('with the defaults the whole stack passes both packs without alarm or log-group acknowledgments', () => {
    const { stack } = app2(({ topic, key }) => ({ alarmTopic: topic, logEncryptionKey: key }));
    const acked = complianceAcks(stack).map(([path, id]) => `${id} at ${path}`)
      .filter((a) => /CloudWatchAlarmAction|CloudWatchLogGroupEncrypted/.test(a));
    expect(acked).toEqual([]);
    // only the log group the user passed in is reported: it is the user's to encrypt or acknowledge
    expect(complianceFindings(stack).map((f) => `${f.rule} at ${f.path}`).sort()).toEqual([
      'HIPAA.Security-CloudWatchLogGroupEncrypted at Jobs/UserLogs/Resource',
      'NIST.800.53.R5-CloudWatchLogGroupEncrypted at Jobs/UserLogs/Resource',
    ]);
  });
});
