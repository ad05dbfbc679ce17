/**
 * Props that pass synth today but fail or misbehave in AWS fail synth (or
 * warn), with a message that names the construct and what to change.
 */
import { App, Duration, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_lambda as lambda, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import {
  DispatchTarget, FargateJob, HybridService, HybridServiceProps, JobDispatcher, JobField, JobVpc, JobWorkflow, S3Source, S3SourceProps, SqsSource,
  WorkflowStep,
} from '../src';
import { IMAGE, job, stackWithCluster } from './helpers';

function service(props: Partial<HybridServiceProps> = {}, configure?: (stack: Stack, web: HybridService) => void) {
  const stack = new Stack(new App(), 'Test', { env: { region: 'eu-west-1' } });
  const web = new HybridService(stack, 'Web', { image: IMAGE, containerPort: 80, ...props });
  configure?.(stack, web);
  return { stack, web };
}

function fn(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async(e)=>e') });
}

describe('allowedCidrs must be IPv4 or IPv6 CIDRs', () => {
  test.each(['10.0.0.300/8', '10.0.0/8', '10.0.0.0/33', '10.0.0.0', '2001:db8:::/32', '2001:db8::/129', 'fe80::1%eth0/64', '::ffff:10.0.0.0/104', 'any'])('%s fails, naming the service', (cidr) => {
    expect(() => service({ allowedCidrs: [cidr] })).toThrow(`Test/Web: allowedCidrs entry '${cidr}' is not an IPv4 or IPv6 CIDR`);
  });
  test.each(['10.0.0.0/8', '0.0.0.0/0', '203.0.113.7/32', '2001:db8::/32', '::/0', '2600:1f18:abcd::/48'])('%s passes', (cidr) => {
    expect(() => service({ allowedCidrs: [cidr] })).not.toThrow();
  });
});

describe('paths must start with a slash', () => {
  test('healthCheckPath without a leading slash fails', () => {
    expect(() => service({ healthCheckPath: 'health' })).toThrow("Test/Web: healthCheckPath 'health' must start with '/' (for example '/health')");
  });
  test('healthCheckPath /health passes', () => {
    expect(() => service({ healthCheckPath: '/health' })).not.toThrow();
  });
  test('a Lambda route path pattern without a leading slash fails', () => {
    expect(() => service({}, (stack, web) => web.addLambdaRoute('Api', { function: fn(stack, 'F'), priority: 1, pathPatterns: ['api/x'] })))
      .toThrow("Test/Web: Lambda route 'Api': path pattern 'api/x' must start with '/' (request paths do: for example '/api/x'), or with a '*' wildcard");
  });
});

describe('two Lambda routes with the same paths and hosts', () => {
  test('fail: the second could never receive a request', () => {
    expect(() => service({}, (stack, web) => {
      web.addLambdaRoute('A', { function: fn(stack, 'F1'), priority: 1, pathPatterns: ['/api', '/api/*'] });
      web.addLambdaRoute('B', { function: fn(stack, 'F2'), priority: 2, pathPatterns: ['/api/*', '/api'] });
    })).toThrow("Test/Web: Lambda route 'B' matches the same path patterns and host headers as route 'A', so one of them would never receive a request");
  });
  test('fail from lambdaRoutes too, with hosts', () => {
    expect(() => service({}, (stack) => new HybridService(stack, 'Other', {
      image: IMAGE,
      lambdaRoutes: [
        { id: 'A', function: fn(stack, 'F1'), priority: 1, hostHeaders: ['api.example.com'] },
        { id: 'B', function: fn(stack, 'F2'), priority: 2, hostHeaders: ['api.example.com'] },
      ],
    }))).toThrow("Test/Other: Lambda route 'B' matches the same path patterns and host headers as route 'A'");
  });
  test('pass when the hosts differ', () => {
    expect(() => service({}, (stack, web) => {
      web.addLambdaRoute('A', { function: fn(stack, 'F1'), priority: 1, pathPatterns: ['/api'], hostHeaders: ['a.example.com'] });
      web.addLambdaRoute('B', { function: fn(stack, 'F2'), priority: 2, pathPatterns: ['/api'], hostHeaders: ['b.example.com'] });
    })).not.toThrow();
  });
});

describe('S3 notifications that overlap on one bucket (S3 rejects them at deploy)', () => {
  function twoDispatchers(first: S3SourceProps, second: S3SourceProps, sameBucket = true) {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster);
    const bucket = new s3.Bucket(stack, 'Bucket');
    const other = sameBucket ? bucket : new s3.Bucket(stack, 'Other');
    new JobDispatcher(stack, 'First', { target: DispatchTarget.fargateJob(j), sources: [new S3Source(bucket, first)] });
    new JobDispatcher(stack, 'Second', { target: DispatchTarget.fargateJob(j), sources: [new S3Source(other, second)] });
  }
  const C = s3.EventType.OBJECT_CREATED;
  test.each<[string, S3SourceProps, S3SourceProps]>([
    ['the same prefix', { prefix: 'in/' }, { prefix: 'in/' }],
    ['one prefix starts the other', { prefix: 'in/' }, { prefix: 'in/a/' }],
    ['no prefix and a prefix', {}, { prefix: 'in/' }],
    ['one suffix ends the other, same prefix', { prefix: 'in/', suffix: '.csv' }, { prefix: 'in/', suffix: 'a.csv' }],
    ['ObjectCreated:* and ObjectCreated:Put', { events: [C] }, { events: [s3.EventType.OBJECT_CREATED_PUT] }],
  ])('%s fails, naming both dispatchers', (_label, first, second) => {
    expect(() => twoDispatchers(first, second)).toThrow(/^Test\/Second: the S3Source on Test\/Bucket \(.*\) overlaps the notifications of Test\/First\/Source0 .*S3 rejects overlapping notification configurations on one bucket at deploy/);
  });
  test.each<[string, S3SourceProps, S3SourceProps, boolean]>([
    ['different prefixes', { prefix: 'in/' }, { prefix: 'out/' }, true],
    ['the same prefix, different suffixes', { prefix: 'in/', suffix: '.csv' }, { prefix: 'in/', suffix: '.txt' }, true],
    ['different prefixes, no suffix and a suffix', { prefix: 'a/' }, { prefix: 'b/', suffix: '.csv' }, true],
    ['different event types', { events: [C] }, { events: [s3.EventType.OBJECT_REMOVED] }, true],
    ['different buckets', {}, {}, false],
  ])('%s pass', (_label, first, second, sameBucket) => {
    expect(() => twoDispatchers(first, second, sameBucket)).not.toThrow();
  });
  test('one source listing overlapping events fails', () => {
    const { stack, cluster } = stackWithCluster();
    const bucket = new s3.Bucket(stack, 'Bucket');
    expect(() => new JobDispatcher(stack, 'D', {
      target: DispatchTarget.fargateJob(job(stack, cluster)), sources: [new S3Source(bucket, { events: [C, s3.EventType.OBJECT_CREATED_COPY] })],
    })).toThrow('Test/D: the S3Source on Test/Bucket lists the overlapping events s3:ObjectCreated:* and s3:ObjectCreated:Copy');
  });
});

describe('workflow step names that become the same result path', () => {
  function workflow(second: { name: string; resultPath?: string }) {
    const stack = new Stack(new App(), 'Test');
    return () => new JobWorkflow(stack, 'Flow', {
      steps: [WorkflowStep.invoke(fn(stack, 'A'), { name: 'List parts' }), WorkflowStep.invoke(fn(stack, 'B'), second)],
    });
  }
  test("'List parts' and 'List_parts' fail", () => {
    expect(workflow({ name: 'List_parts' })).toThrow("Test/Flow: workflow steps 'List parts' and 'List_parts' would both keep their results under $.steps.List_parts");
  });
  test('pass when one has its own resultPath', () => {
    expect(workflow({ name: 'List_parts', resultPath: '$.other' })).not.toThrow();
  });
});

describe('vpc given with cluster is ignored: a warning', () => {
  test('FargateJob', () => {
    const { stack, cluster } = stackWithCluster();
    new FargateJob(stack, 'Job', { image: IMAGE, cluster, vpc: new ec2.Vpc(stack, 'OtherVpc') });
    Annotations.fromStack(stack).hasWarning('/Test/Job', Match.stringLikeRegexp(
      "^Test/Job: vpc is ignored because cluster is given \\(the job runs in the cluster's VPC\\): drop vpc.*@cdk-hybrid-compute/fargate-job:vpcWithCluster"));
  });
  test('HybridService', () => {
    const { stack } = service({}, (s) => {
      const vpc = new ec2.Vpc(s, 'Vpc');
      new HybridService(s, 'Other', { image: IMAGE, cluster: new ecs.Cluster(s, 'Cluster', { vpc }), vpc: new ec2.Vpc(s, 'OtherVpc') });
    });
    Annotations.fromStack(stack).hasWarning('/Test/Other', Match.stringLikeRegexp(
      '^Test/Other: vpc is ignored because cluster is given.*@cdk-hybrid-compute/hybrid-service:vpcWithCluster'));
    Annotations.fromStack(stack).hasNoWarning('/Test/Web', Match.stringLikeRegexp('vpc is ignored'));
  });
});

describe('source-specific job fields on a dispatcher with no sources', () => {
  function dispatcher(withSource: boolean) {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster, { environment: { KEY: JobField.s3Key(), ID: JobField.jobId() } });
    const sources = withSource ? [new S3Source(new s3.Bucket(stack, 'Bucket'))] : [];
    new JobDispatcher(stack, 'D', { target: DispatchTarget.fargateJob(j), sources });
    return Annotations.fromStack(stack);
  }
  test('warn that they cannot be checked, naming the field and where it is used', () => {
    dispatcher(false).hasWarning('/Test/D', Match.stringLikeRegexp(
      "^Test/D has no sources, so the job fields its target uses cannot be checked at synth \\('s3.key' in environment variable KEY of Test/Job\\)"));
  });
  test('no warning once a source produces them', () => {
    dispatcher(true).hasNoWarning('/Test/D', Match.stringLikeRegexp('has no sources'));
  });
  test('an SqsSource still fails synth for an S3 field', () => {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster, { environment: { KEY: JobField.s3Key() } });
    const queue = new sqs.Queue(stack, 'Q', { visibilityTimeout: Duration.minutes(6) });
    new JobDispatcher(stack, 'D', { target: DispatchTarget.fargateJob(j), sources: [new SqsSource(queue)] });
    expect(() => Annotations.fromStack(stack)).toThrow("uses job field 's3.key', which only resolves for s3 jobs");
  });
});

describe('errors thrown while building name the construct', () => {
  test.each<[string, (stack: Stack, cluster: ecs.ICluster) => unknown, string]>([
    ['a Fargate size', (stack, cluster) => new FargateJob(stack, 'Thumbnail', { image: IMAGE, cluster, cpu: 300 }), 'Test/Thumbnail: cpu 300 is not a Fargate task size'],
    ['ephemeral storage', (stack, cluster) => new FargateJob(stack, 'Big', { image: IMAGE, cluster, ephemeralStorageGiB: 500 }), 'Test/Big: ephemeralStorageGiB must be'],
    ['a marker in the family', (stack, cluster) => new FargateJob(stack, 'J', { image: IMAGE, cluster, family: JobField.jobId() }), 'Test/J: JobField markers cannot be used in family'],
    ['security groups', (stack, cluster) => new FargateJob(stack, 'J', { image: IMAGE, cluster, securityGroups: [] }), 'Test/J: a Fargate task takes 1 to 5 security groups'],
    ['a VPC', (stack) => new JobVpc(stack, 'Net', { maxAzs: 0 }), 'Test/Net: maxAzs must be at least 1'],
    ['a dispatcher', (stack, cluster) => new JobDispatcher(stack, 'D', { target: DispatchTarget.fargateJob(job(stack, cluster)), batchSize: 20 }),
      'Test/D: batchSize 20 is over 10: set maxBatchingWindow'],
    ['a dispatcher alarm', (stack, cluster) => new JobDispatcher(stack, 'D', { target: DispatchTarget.fargateJob(job(stack, cluster)), failureRateAlarmThreshold: 2 }),
      'Test/D: failureRateAlarmThreshold must be above 0'],
    ['a workflow with no steps', (stack) => new JobWorkflow(stack, 'Flow', { steps: [] }), 'Test/Flow: a workflow needs at least one step'],
    ['a workflow with two steps of one name', (stack) => new JobWorkflow(stack, 'Flow', {
      steps: [WorkflowStep.invoke(fn(stack, 'A'), { name: 'X' }), WorkflowStep.invoke(fn(stack, 'B'), { name: 'X' })],
    }), "Test/Flow: two workflow steps are named 'X'"],
    ['a service size', (stack) => new HybridService(stack, 'Web', { image: IMAGE, cpu: 300 }), 'Test/Web: cpu 300 is not a Fargate task size'],
  ])('%s', (_label, build, message) => {
    const { stack, cluster } = stackWithCluster();
    expect(() => build(stack, cluster)).toThrow(message);
  });
});
