import { Duration, aws_events as events, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { EventBridgeSource, DispatchTarget, JobDispatcher, JobField, S3Source, SqsSource } from '../../src';
import { job, propertiesOf, renderedConfig, resourceNamed, runStatements, stackWithCluster } from '../helpers';

function dispatcherStack(props: Partial<ConstructorParameters<typeof JobDispatcher>[2]> = {}, jobProps = {}) {
  const { app, stack, cluster } = stackWithCluster();
  const j = job(stack, cluster, { family: 'count', ...jobProps });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const dispatcher = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(j), sources: [new S3Source(bucket)], ...props });
  return { app, stack, dispatcher, bucket, job: j };
}

describe('JobDispatcher resources', () => {
  const { stack, dispatcher } = dispatcherStack();
  const template = Template.fromStack(stack);
  const claimPrefix = `claim-check/${dispatcher.startedBy}/`;

  test('dispatch queue and DLQ: SQS-managed encryption, redrive after 5 receives, visibility 6 x timeout', () => {
    const queue = resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherQueue');
    const dlq = resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherDeadLetterQueue');
    expect(queue.props).toEqual({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 345600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq.id, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(dlq.props).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  test('both queues deny every request that is not over TLS', () => {
    const policies = propertiesOf(template, 'AWS::SQS::QueuePolicy');
    for (const prefix of ['DispatcherQueue', 'DispatcherDeadLetterQueue']) {
      const { id } = resourceNamed(template, 'AWS::SQS::Queue', prefix);
      const policy = policies.find((p) => p.Queues.some((q: any) => q.Ref === id));
      expect(policy.PolicyDocument.Statement).toContainEqual({
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Resource: { 'Fn::GetAtt': [id, 'Arn'] },
      });
    }
  });

  test('function: pinned Node.js 24 runtime, arm64, 60 s, 256 MiB, active tracing, log group with retention', () => {
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'DispatcherFunction').props;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 256,
      TracingConfig: { Mode: 'Active' },
    });
    const logGroup = resourceNamed(template, 'AWS::Logs::LogGroup', 'DispatcherLogGroup');
    expect(logGroup.props.RetentionInDays).toBe(30);
    expect(fn.LoggingConfig).toEqual({ LogGroup: { Ref: logGroup.id } });
  });

  test('event source mapping: partial batch responses, batch 10, max concurrency 5', () => {
    const { id } = resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherQueue');
    const dispatcherMappings = propertiesOf(template, 'AWS::Lambda::EventSourceMapping')
      .filter((m) => m.FunctionName.Ref.startsWith('DispatcherFunction'));
    expect(dispatcherMappings).toEqual([{
      FunctionName: { Ref: expect.stringMatching(/^DispatcherFunction/) },
      EventSourceArn: { 'Fn::GetAtt': [id, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    }]);
  });

  test('role: exactly logs, RunTask on the family in the cluster, PassRole on the two roles, TagResource at launch, DLQ send, queue consume, X-Ray', () => {
    const policy = resourceNamed(template, 'AWS::IAM::Policy', 'DispatcherRoleDefaultPolicy').props;
    const id = (type: string, prefix: string) => resourceNamed(template, type, prefix).id;
    const cluster = id('AWS::ECS::Cluster', 'Cluster');
    expect(policy.PolicyDocument.Statement).toEqual([
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id('AWS::Logs::LogGroup', 'DispatcherLogGroup'), 'Arn'] } },
      ...runStatements({
        family: 'count', cluster, taskRole: id('AWS::IAM::Role', 'JobTaskRole'), executionRole: id('AWS::IAM::Role', 'JobExecutionRole'),
      }),
      // the job ledger: read and record the job's item
      { Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id('AWS::DynamoDB::Table', 'DispatcherLedger'), 'Arn'] } },
      // claim check: write documents under the prefix only
      {
        Action: 's3:PutObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id('AWS::S3::Bucket', 'ClaimCheckBucket'), 'Arn'] }, `/${claimPrefix}*`]] },
      },
      { Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id('AWS::SQS::Queue', 'DispatcherDeadLetterQueue'), 'Arn'] } },
      {
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id('AWS::SQS::Queue', 'DispatcherQueue'), 'Arn'] },
      },
    ]);
    // no managed policies, no '*' actions anywhere on the role
    const role = resourceNamed(template, 'AWS::IAM::Role', 'DispatcherRole').props;
    expect(role.ManagedPolicyArns).toBeUndefined();
    for (const s of policy.PolicyDocument.Statement) {
      for (const a of [s.Action].flat()) expect(a).not.toContain('*');
    }
  });

  test('the rendered config names the job, its network and the queues', () => {
    const config = renderedConfig(stack);
    expect(config).toEqual({
      version: 3,
      startedBy: expect.stringMatching(/^hc-[0-9a-f]{16}$/),
      deadLetterQueueUrl: expect.stringContaining('DispatcherDeadLetterQueue'),
      dispatchQueueUrl: `<{'Ref':'${resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherQueue').id}'}>`,
      maxReceiveCount: 5,
      launchConcurrency: 10,
      queues: [{ arn: expect.stringContaining('DispatcherQueue'), dispatchQueue: true }],
      target: {
        kind: 'fargateJob',
        job: {
          cluster: expect.stringContaining('Cluster'),
          taskDefinition: expect.stringContaining('JobTaskDefinition'),
          family: 'count',
          containerName: 'job',
          subnets: [expect.stringContaining('PrivateSubnet1'), expect.stringContaining('PrivateSubnet2')],
          securityGroups: [expect.stringContaining('JobSecurityGroup')],
          environment: {},
        },
        ledger: { table: `<{'Ref':'${resourceNamed(template, 'AWS::DynamoDB::Table', 'DispatcherLedger').id}'}>`, ttlSeconds: 30 * 86400 },
        claimCheck: {
          bucket: `<{'Ref':'${resourceNamed(template, 'AWS::S3::Bucket', 'ClaimCheckBucket').id}'}>`,
          endpoint: `https://<{'Fn::GetAtt':['${resourceNamed(template, 'AWS::S3::Bucket', 'ClaimCheckBucket').id}','RegionalDomainName']}>`,
          prefix: claimPrefix,
        },
        tracking: true,
      },
    });
  });
});

describe('sources', () => {
  test('S3Source: notifications of created objects with prefix and suffix into the dispatch queue', () => {
    const { stack, cluster } = stackWithCluster();
    const bucket = new s3.Bucket(stack, 'Bucket');
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)), sources: [new S3Source(bucket, { prefix: 'in/', suffix: '.csv' })] });
    const template = Template.fromStack(stack);
    const queue = resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherQueue').id;
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          QueueArn: { 'Fn::GetAtt': [queue, 'Arn'] },
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.csv' }, { Name: 'prefix', Value: 'in/' }] } },
        }],
      },
    });
  });

  test('SqsSource: the user queue gets its own event source mapping and a jobId template', () => {
    const { stack, cluster } = stackWithCluster();
    const dlq = new sqs.Queue(stack, 'Dlq');
    const queue = new sqs.Queue(stack, 'Orders', { visibilityTimeout: Duration.minutes(6), deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
    const d = new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster, { environment: { ORDER: JobField.body() } })),
      sources: [new SqsSource(queue, { jobId: JobField.fromPath('$.orderId') })],
    });
    const template = Template.fromStack(stack);
    expect(propertiesOf(template, 'AWS::Lambda::EventSourceMapping')
      .filter((m) => m.FunctionName.Ref.startsWith('DispatcherFunction'))
      .map((m) => m.EventSourceArn['Fn::GetAtt'][0]))
      .toEqual([expect.stringMatching(/^DispatcherQueue/), expect.stringMatching(/^Orders/)]);
    expect(renderedConfig(stack).queues[1]).toEqual({
      arn: expect.stringContaining('Orders'), dispatchQueue: false, jobId: '{{hc:path:$.orderId}}', maxReceiveCount: 3,
    });
    expect(d.sources).toHaveLength(1);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('SqsSource warns when the queue has no DLQ, and rejects FIFO queues and short visibility timeouts', () => {
    const { stack, cluster } = stackWithCluster();
    const j = job(stack, cluster);
    const noDlq = new sqs.Queue(stack, 'NoDlq', { visibilityTimeout: Duration.minutes(6) });
    new JobDispatcher(stack, 'D1', { target: DispatchTarget.fargateJob(j), sources: [new SqsSource(noDlq)] });
    Annotations.fromStack(stack).hasWarning('/Test/D1/Source0', Match.stringLikeRegexp('has no dead-letter queue'));

    const fifo = new sqs.Queue(stack, 'Fifo', { fifo: true, visibilityTimeout: Duration.minutes(6) });
    expect(() => new JobDispatcher(stack, 'D2', { target: DispatchTarget.fargateJob(j), sources: [new SqsSource(fifo)] })).toThrow('SqsSource does not support FIFO queues');
    const short = new sqs.Queue(stack, 'Short');
    expect(() => new JobDispatcher(stack, 'D3', { target: DispatchTarget.fargateJob(j), sources: [new SqsSource(short)] })).toThrow(
      'queue Test/Short has a visibility timeout of 30 seconds; a job source needs at least 6 times the dispatcher timeout (360 seconds): raise its visibilityTimeout');
    expect(() => new SqsSource(noDlq, { jobId: 'static' })).toThrow('SqsSource jobId must contain a JobField marker');
  });

  test('EventBridgeSource: a rule on the given bus targeting the dispatch queue, with the DLQ for undeliverable events', () => {
    const { stack, cluster } = stackWithCluster();
    const bus = new events.EventBus(stack, 'Bus');
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster)),
      sources: [new EventBridgeSource({ eventBus: bus, eventPattern: { source: ['com.example'], detailType: ['Thing'] } })],
    });
    const template = Template.fromStack(stack);
    const queue = resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherQueue').id;
    const dlq = resourceNamed(template, 'AWS::SQS::Queue', 'DispatcherDeadLetterQueue').id;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^Bus') },
      EventPattern: { 'source': ['com.example'], 'detail-type': ['Thing'] },
      Targets: [{
        Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
        Id: 'Target0',
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      }],
    });
    expect(() => new EventBridgeSource({ eventPattern: {} })).toThrow('EventBridgeSource needs a non-empty eventPattern');
    expect(() => new EventBridgeSource({ eventPattern: { source: [JobField.s3Key()] } })).toThrow('JobField markers cannot be used in an EventBridgeSource eventPattern');
  });
});

describe('bad props fail synth with a message that says what to change', () => {
  test.each([
    [{ visibilityTimeout: Duration.minutes(2) }, 'visibilityTimeout (2 minutes) must be at least 6 times the dispatcher timeout (1 minute): set it to 360 seconds or more, or lower timeout'],
    [{ batchSize: 50 }, 'batchSize 50 is over 10: set maxBatchingWindow as well'],
    [{ batchSize: 0 }, 'batchSize must be a whole number from 1 to 10,000, got 0'],
    [{ maxConcurrency: 1 }, 'maxConcurrency must be a whole number from 2 to 1,000 (the SQS event source limits), got 1'],
    [{ launchConcurrency: 0 }, 'launchConcurrency must be a whole number from 1 to 50, got 0'],
    [{ maxReceiveCount: 0 }, 'maxReceiveCount must be a whole number from 1 to 1,000, got 0'],
    [{ timeout: Duration.minutes(16) }, 'timeout must be between 1 second and 15 minutes, got 16 minutes'],
  ])('%j', (props, message) => {
    expect(() => dispatcherStack(props)).toThrow(message);
  });

  test('a JobField that no source can produce fails synth, naming the variable and what to do', () => {
    const { app } = dispatcherStack({}, { environment: { ORDER: JobField.detail() } });
    expect(() => app.synth()).toThrow(/environment variable ORDER of Test\/Job uses job field 'eventbridge.detail', which only resolves for eventbridge jobs, but the sources of Test\/Dispatcher produce s3 jobs: add a matching source or use another JobField/);
  });

  test('S3 fields resolve for an EventBridge source whose pattern matches aws.s3 events', () => {
    const { app, stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster, { environment: { KEY: JobField.s3Key() } })),
      sources: [new EventBridgeSource({ eventPattern: { source: ['aws.s3'], detailType: ['Object Created'] } })],
    });
    expect(() => app.synth()).not.toThrow();
  });

  test('S3Source filters cannot hold markers', () => {
    const { stack } = stackWithCluster();
    expect(() => new S3Source(new s3.Bucket(stack, 'B'), { prefix: JobField.s3Key() })).toThrow('JobField markers cannot be used in the S3Source prefix');
    expect(() => new S3Source(new s3.Bucket(stack, 'C'), { events: [] })).toThrow('S3Source events must name at least one s3.EventType');
  });

  test('the same queue cannot be a source twice', () => {
    const { stack, cluster } = stackWithCluster();
    const q = new sqs.Queue(stack, 'Q', { visibilityTimeout: Duration.minutes(6) });
    const d = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)), sources: [new SqsSource(q)] });
    expect(() => d.addSource(new SqsSource(q))).toThrow('queue Test/Q is already a source of Test/Dispatcher');
  });
});

describe('config size', () => {
  test('job templates that would overflow Lambda\'s 4 KB environment fail synth with what to do', () => {
    const environment: Record<string, string> = {};
    for (let i = 0; i < 60; i++) environment[`FIELD_${i}`] = `${JobField.fromPath(`$.detail.some.rather.long.path.number${i}`)}`;
    const { app } = dispatcherStack({}, { environment });
    expect(() => app.synth()).toThrow(/the dispatcher config for Test\/Job is about \d+ bytes, over Lambda's 4 KB environment limit: shorten the environment templates/);
  });

  test('the examples stay well under it', () => {
    const { app } = dispatcherStack({}, { environment: { A: JobField.s3Key(), B: JobField.s3Uri(), C: JobField.jobId() } });
    expect(() => app.synth()).not.toThrow();
  });
});
