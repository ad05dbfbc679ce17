import { Duration, Size, Stack, aws_iam as iam, aws_lambda as lambda, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  ComputeRoute, ComputeTarget, DispatchTarget, JobDispatcher, JobField, JobTracking, S3Source, SqsSource,
} from '../../src';
import { job, propertiesOf, resourceNamed, stackWithCluster } from '../helpers';

function worker(stack: Stack, id = 'Worker', props: Partial<lambda.FunctionProps> = {}): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    memorySize: 1024,
    ...props,
  });
}

function routed(build: (stack: Stack) => DispatchTarget) {
  const { stack } = stackWithCluster();
  const bucket = new s3.Bucket(stack, 'Bucket');
  const dispatcher = new JobDispatcher(stack, 'Dispatcher', { target: build(stack), sources: [new S3Source(bucket)] });
  return { stack, dispatcher, template: () => Template.fromStack(stack) };
}

describe('DispatchTarget.route()', () => {
  test('the dispatcher may invoke exactly the routed functions; each gets destinations to an outcome queue it consumes, and no retries', () => {
    const { dispatcher, template } = routed((s) => DispatchTarget.route({
      rules: [ComputeRoute.whenSizeBelow(Size.mebibytes(100), ComputeTarget.lambdaFunction(worker(s)))],
      otherwise: ComputeTarget.fargate(job(s, (s.node.findChild('Cluster') as any))),
    }));
    const t = template();
    const queue = resourceNamed(t, 'AWS::SQS::Queue', 'DispatcherOutcomeQueue').id;
    const dlq = resourceNamed(t, 'AWS::SQS::Queue', 'DispatcherDeadLetterQueue').id;
    expect(resourceNamed(t, 'AWS::SQS::Queue', 'DispatcherOutcomeQueue').props).toMatchObject({
      SqsManagedSseEnabled: true, VisibilityTimeout: 360, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(propertiesOf(t, 'AWS::Lambda::EventSourceMapping').map((m) => m.EventSourceArn)).toContainEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    // The worker may send to the outcome queue only, never to the dispatch queue (which accepts jobs).
    const workerStatements = resourceNamed(t, 'AWS::IAM::Policy', 'WorkerServiceRoleDefaultPolicy').props.PolicyDocument.Statement;
    expect(workerStatements.filter((s: any) => JSON.stringify(s.Action).includes('sqs:'))).toEqual([{
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
    }]);
    const fn = resourceNamed(t, 'AWS::Lambda::Function', 'Worker').id;
    const statements = resourceNamed(t, 'AWS::IAM::Policy', 'DispatcherRoleDefaultPolicy').props.PolicyDocument.Statement;
    expect(statements.filter((s: any) => JSON.stringify(s.Action).includes('lambda:'))).toEqual([{
      Action: 'lambda:InvokeFunction',
      Effect: 'Allow',
      Resource: [{ 'Fn::GetAtt': [fn, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn, 'Arn'] }, ':*']] }],
    }]);
    expect(propertiesOf(t, 'AWS::Lambda::EventInvokeConfig')).toEqual([{
      FunctionName: { Ref: fn },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnSuccess: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } }, OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    }]);
    expect(dispatcher.tracker).toBeDefined();
    expect(dispatcher.ledger).toBeDefined();
  });

  test('the rendered config: rules in order, distinct destinations, the Fargate job for the fargate destination', () => {
    const { stack, dispatcher } = routed((s) => {
      const small = ComputeTarget.lambdaFunction(worker(s));
      return DispatchTarget.route({
        rules: [
          ComputeRoute.whenKeyEndsWith('.parquet', ComputeTarget.fargate(job(s, s.node.findChild('Cluster') as any))),
          ComputeRoute.whenSizeBelow(Size.kibibytes(64), small),
          ComputeRoute.whenField(JobField.s3Bucket(), 'hot', small),
        ],
        otherwise: ComputeTarget.lambdaFunction(worker(s, 'Other', { memorySize: 512, architecture: lambda.Architecture.X86_64 }), { spillover: false }),
        tracking: JobTracking.disabled(),
      });
    });
    const cfn = (dispatcher.function as lambda.Function).node.defaultChild as lambda.CfnFunction;
    const env = (stack.resolve(cfn.environment) as any).variables.HC_DISPATCH_CONFIG;
    const text = typeof env === 'string' ? env : env['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'X')).join('');
    const config = JSON.parse(text);
    expect(config.target.kind).toBe('route');
    expect(config.target.rules).toEqual([
      { kind: 'keySuffix', value: '.parquet', destination: 0 },
      { kind: 'sizeBelow', bytes: 65536, destination: 1 },
      { kind: 'fieldEquals', field: '{{hc:s3.bucket}}', value: 'hot', destination: 1 },
    ]);
    expect(config.target.otherwise).toBe(2);
    expect(config.target.destinations).toEqual([
      { kind: 'fargate' },
      { kind: 'lambda', functionArn: 'X', spillover: true, memoryMiB: 1024, arm64: true },
      { kind: 'lambda', functionArn: 'X', spillover: false, memoryMiB: 512, arm64: false },
    ]);
    expect(config.target.fargate.job.family).toBe('TestJobTaskDefinitionBC28EA50');
    expect(config.target.fargate.tracking).toBeUndefined();
  });
});

describe('bad routes fail synth with a message that says what to change', () => {
  test('two different Fargate jobs', () => {
    const { stack, cluster } = stackWithCluster();
    expect(() => DispatchTarget.route({
      rules: [ComputeRoute.whenKeyStartsWith('a/', ComputeTarget.fargate(job(stack, cluster, {}, 'A')))],
      otherwise: ComputeTarget.fargate(job(stack, cluster, {}, 'B')),
    })).toThrow('a route launches one Fargate job, but it names Test/A and Test/B: route to one FargateJob (use a JobField in its environment to vary the work), or use two dispatchers');
  });

  test('spillover asked without a Fargate job', () => {
    const { stack } = stackWithCluster();
    expect(() => DispatchTarget.route({ rules: [], otherwise: ComputeTarget.lambdaFunction(worker(stack), { spillover: true }) }))
      .toThrow('ComputeTarget.lambdaFunction(Test/Worker) asks for spillover, but the route has no Fargate job to spill over to');
  });

  test('a function with asynchronous invocation settings of its own', () => {
    const { stack } = stackWithCluster();
    const fn = worker(stack);
    fn.configureAsyncInvoke({ retryAttempts: 2 });
    expect(() => new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.route({ rules: [], otherwise: ComputeTarget.lambdaFunction(fn) }) }))
      .toThrow(/the routed function Test\/Worker already has asynchronous invocation settings .*: the route sets them \(no retries, destinations to the dispatch queue\)/);
  });

  test('an imported function without a role', () => {
    const { stack } = stackWithCluster();
    const fn = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:111122223333:function:w');
    expect(() => new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.route({ rules: [], otherwise: ComputeTarget.lambdaFunction(fn) }) }))
      .toThrow('the routed function Test/Imported has no known role');
    const withRole = lambda.Function.fromFunctionAttributes(stack, 'WithRole', {
      functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:w2', role: iam.Role.fromRoleName(stack, 'R', 'worker-role'), sameEnvironment: true,
    });
    expect(() => new JobDispatcher(stack, 'Dispatcher2', { target: DispatchTarget.route({ rules: [], otherwise: ComputeTarget.lambdaFunction(withRole) }) })).not.toThrow();
  });

  test('key rules on a dispatcher whose sources produce no S3 jobs', () => {
    const { stack, cluster } = stackWithCluster();
    const queue = new sqs.Queue(stack, 'Q', { visibilityTimeout: Duration.minutes(6) });
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.route({ rules: [ComputeRoute.whenKeyEndsWith('.csv', ComputeTarget.lambdaFunction(worker(stack)))], otherwise: ComputeTarget.fargate(job(stack, cluster, { environment: { B: JobField.body() } })) }),
      sources: [new SqsSource(queue)],
    });
    expect(() => Template.fromStack(stack)).toThrow("rule 0 of Test/Dispatcher matches S3 object keys (key ends with '.csv'), but the dispatcher's sources produce sqs jobs");
  });

  test.each([
    [() => ComputeRoute.whenKeyStartsWith('', ComputeTarget.fargate({} as any)), 'whenKeyStartsWith needs a non-empty prefix'],
    [() => ComputeRoute.whenSizeBelow(Size.bytes(0), ComputeTarget.fargate({} as any)), 'whenSizeBelow needs a size of at least 1 byte, got 0'],
    [() => ComputeRoute.whenField('tier', 'gold', ComputeTarget.fargate({} as any)), "whenField needs a JobField marker (JobField.fromPath('$.detail.tier'), JobField.s3Bucket(), ...), got 'tier'"],
    [() => ComputeTarget.lambdaFunction({} as any, { memorySize: 64 }), 'memorySize must be a whole number of MiB from 128 to 10,240, got 64'],
  ])('%#', (build, message) => {
    expect(build).toThrow(message);
  });
});
