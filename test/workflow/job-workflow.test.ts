import { App, Duration, Stack, aws_kms as kms, aws_lambda as lambda, aws_sns as sns, aws_stepfunctions as sfn } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { localDefinition, runLocally, stepError } from './local';
import { FargateJob, JobIntegration, JobWorkflow, WorkflowFailureHandler, WorkflowStep } from '../../src';
import { ecsArn, IMAGE, propertiesOf, resourceNamed } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown, options?: unknown) => { isValid: boolean; errors: unknown[] };

function fn(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async(e)=>e') });
}

/** validate → process (.sync) → list → each item (Map) → approve (task token) → summarize. */
function pipeline(extra: { failureHandler?: WorkflowFailureHandler; logLevel?: sfn.LogLevel } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Flow');
  const job = new FargateJob(stack, 'Job', { image: IMAGE });
  const workflow = new JobWorkflow(stack, 'Pipeline', {
    steps: [
      WorkflowStep.invoke(fn(stack, 'ValidateFn'), { name: 'Validate' }),
      WorkflowStep.job(job, { name: 'Process', environment: { INPUT_KEY: '$.key', MODE: 'batch' } }),
      WorkflowStep.invoke(fn(stack, 'ListFn'), { name: 'List' }),
      WorkflowStep.forEach('$.steps.List.result.items', [WorkflowStep.invoke(fn(stack, 'ItemFn'), { name: 'Item' })], { name: 'Each item', maxConcurrency: 4 }),
      WorkflowStep.job(job, { name: 'Approve', integration: JobIntegration.TASK_TOKEN, heartbeat: Duration.minutes(5) }),
      WorkflowStep.invoke(fn(stack, 'SummarizeFn'), { name: 'Summarize' }),
    ],
    ...extra,
  });
  const template = Template.fromStack(stack);
  return { stack, job, workflow, template, definition: localDefinition(template) };
}

/** Local stand-ins for every Task state: Lambda returns {Payload}, .sync ECS returns the DescribeTasks task. */
function handlers(overrides: Record<string, (input: any) => Promise<any>> = {}) {
  const calls: Record<string, any[]> = {};
  const record = (name: string, f: (input: any) => Promise<any>) => async (input: any) => {
    (calls[name] ??= []).push(input);
    return f(input);
  };
  const base: Record<string, (input: any) => Promise<any>> = {
    'Validate': async () => ({ Payload: { ok: true }, StatusCode: 200 }),
    'Process': async () => ({ TaskArn: 'arn:aws:ecs:eu-west-1:111122223333:task/jobs/t1', StopCode: 'EssentialContainerExited', StoppedReason: 'Essential container in task exited', Containers: [{ ExitCode: 0 }], Attachments: ['lots of data'] }),
    'List': async () => ({ Payload: { items: ['s3://out/1.json', 's3://out/2.json', 's3://out/3.json'] } }),
    'Item': async (input) => ({ Payload: { done: input.Payload } }),
    'Approve': async () => ({ approved: true }),
    'Summarize': async (input) => ({ Payload: { items: input.Payload.steps.Each_item.length } }),
    'Report failure': async () => ({ Entries: [{ EventId: 'e1' }], FailedEntryCount: 0 }),
  };
  const all = { ...base, ...overrides };
  return { calls, handlers: Object.fromEntries(Object.entries(all).map(([k, f]) => [k, record(k, f)])) };
}

describe('the synthesized definition', () => {
  const { definition } = pipeline();

  test('is valid Amazon States Language (asl-validator)', () => {
    expect(aslValidator(definition)).toMatchObject({ isValid: true, errors: [] });
  });

  test('steps keep only what the next steps need: the Lambda payload, the task ARN and stop reason', () => {
    expect(definition.States.Validate.ResultSelector).toEqual({ 'result.$': '$.Payload' });
    expect(definition.States.Process.ResultSelector).toEqual({ 'taskArn.$': '$.TaskArn', 'stopCode.$': '$.StopCode', 'stoppedReason.$': '$.StoppedReason' });
    expect(definition.States.Process.ResultPath).toBe('$.steps.Process');
  });

  test('retry defaults: Lambda service exceptions; ECS refusals soon, failed tasks later; every step caught', () => {
    expect(definition.States.Validate.Retry).toEqual([{
      ErrorEquals: ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
      IntervalSeconds: 2,
      MaxAttempts: 6,
      BackoffRate: 2,
    }]);
    expect(definition.States.Process.Retry).toEqual([
      { ErrorEquals: ['ECS.AmazonECSException'], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 2 },
      { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2 },
    ]);
    for (const name of ['Validate', 'Process', 'List', 'Each item', 'Approve', 'Summarize']) {
      expect(definition.States[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Report failure' }]);
    }
  });

  test('the task-token job gets the token in HC_TASK_TOKEN and a heartbeat', () => {
    expect(definition.States.Approve.Resource).toBe('arn:aws:states:::ecs:runTask.waitForTaskToken');
    expect(definition.States.Approve.HeartbeatSeconds).toBe(300);
    expect(definition.States.Approve.Parameters.Overrides.ContainerOverrides[0].Environment).toEqual([{ 'Name': 'HC_TASK_TOKEN', 'Value.$': '$$.Task.Token' }]);
  });
});

describe('executed locally (aws-local-stepfunctions)', () => {
  const { definition } = pipeline();

  test('success: every step in order, three items, the token step resumed with the token the container got', async () => {
    const h = handlers();
    const run = await runLocally(definition, { key: 'in/a.csv' }, h.handlers, { Task: { Token: 'token-123' } });
    expect(run.error).toBeUndefined();
    expect(run.path).toEqual(['Init', 'Validate', 'Process', 'List', 'Each item', 'Item', 'Item', 'Item', 'Approve', 'Summarize', 'Done']);
    expect(h.calls.Process[0].Overrides.ContainerOverrides[0].Environment).toEqual([{ Name: 'INPUT_KEY', Value: 'in/a.csv' }, { Name: 'MODE', Value: 'batch' }]);
    expect(h.calls.Approve[0].Overrides.ContainerOverrides[0].Environment).toEqual([{ Name: 'HC_TASK_TOKEN', Value: 'token-123' }]);
    expect(run.output.steps).toEqual({
      Validate: { result: { ok: true } },
      Process: { taskArn: 'arn:aws:ecs:eu-west-1:111122223333:task/jobs/t1', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
      List: { result: { items: ['s3://out/1.json', 's3://out/2.json', 's3://out/3.json'] } },
      Each_item: ['s3://out/1.json', 's3://out/2.json', 's3://out/3.json'].map((item) => ({ result: { done: item } })),
      Approve: { approved: true },
      Summarize: { result: { items: 3 } },
    });
  });

  test('a capacity error from RunTask is retried, then the job runs and the workflow succeeds', async () => {
    let tries = 0;
    const h = handlers({
      Process: async () => {
        if (tries++ === 0) throw stepError('ECS.AmazonECSException', 'Capacity is unavailable at this time.');
        return { TaskArn: 't2', StopCode: 'EssentialContainerExited', StoppedReason: 'done' };
      },
    });
    const run = await runLocally(definition, { key: 'k' }, h.handlers, { Task: { Token: 't' } });
    expect(run.error).toBeUndefined();
    expect(run.retried).toEqual(['Process']);
    expect(h.calls.Process).toHaveLength(2);
    expect(run.path.slice(0, 4)).toEqual(['Init', 'Validate', 'Process', 'List']);
  });

  test('a job that keeps failing is retried twice, then caught: the failure handler gets the error and the input, and the execution fails', async () => {
    const h = handlers({ Process: async () => { throw stepError('States.TaskFailed', 'Essential container in task exited with 1'); } });
    const run = await runLocally(definition, { key: 'k' }, h.handlers);
    expect(h.calls.Process).toHaveLength(3);
    expect(run.retried).toEqual(['Process', 'Process']);
    expect(run.caught).toEqual(['Process']);
    expect(run.path).toEqual(['Init', 'Validate', 'Process', 'Report failure', 'Failed']);
    const [report] = h.calls['Report failure'];
    expect(report.Entries[0]).toMatchObject({ Source: 'cdk-hybrid-compute', DetailType: 'Workflow Failed' });
    expect(report.Entries[0].Detail).toMatchObject({
      error: { Error: 'States.TaskFailed', Cause: 'Essential container in task exited with 1' },
      input: { key: 'k', steps: { Validate: { result: { ok: true } } } },
    });
    expect(run.error).toMatchObject({ name: 'States.TaskFailed' });
  });

  test('a Map with a failing item fails the Map, which is caught once', async () => {
    const h = handlers({
      Item: async (input) => {
        if (input.Payload === 's3://out/2.json') throw stepError('ItemError', 'item 2 is corrupt');
        return { Payload: { done: input.Payload } };
      },
    });
    const run = await runLocally(definition, { key: 'k' }, h.handlers);
    expect(run.caught).toEqual(['Each item']);
    expect(run.path.slice(0, 5)).toEqual(['Init', 'Validate', 'Process', 'List', 'Each item']);
    expect(run.path.filter((p) => p === 'Item')).toHaveLength(3);
    expect(run.path.slice(-2)).toEqual(['Report failure', 'Failed']);
    expect(run.error).toMatchObject({ name: 'ItemError' });
    expect(run.path).not.toContain('Approve');
    expect(h.calls['Report failure'][0].Entries[0].Detail.error).toEqual({ Error: 'ItemError', Cause: 'item 2 is corrupt' });
  });

  test('an SNS failure handler publishes the error and the input instead', async () => {
    const app = new App();
    const stack = new Stack(app, 'Sns');
    const topic = new sns.Topic(stack, 'Topic');
    new JobWorkflow(stack, 'Flow', { steps: [WorkflowStep.invoke(fn(stack, 'F'), { name: 'Only' })], failureHandler: WorkflowFailureHandler.topic(topic) });
    const snsDefinition = localDefinition(Template.fromStack(stack));
    expect(aslValidator(snsDefinition)).toMatchObject({ isValid: true, errors: [] });
    const calls: any[] = [];
    const run = await runLocally(snsDefinition, { a: 1 }, {
      'Only': async () => { throw stepError('Boom', 'no'); },
      'Report failure': async (input) => { calls.push(input); return {}; },
    });
    expect(run.path).toEqual(['Init', 'Only', 'Report failure', 'Failed']);
    expect(run.error).toMatchObject({ name: 'Boom' });
    expect(calls[0]).toEqual({ TopicArn: resourceNamed(Template.fromStack(stack), 'AWS::SNS::Topic', 'Topic').id, Message: { error: { Error: 'Boom', Cause: 'no' }, input: { a: 1, steps: {}, error: { Error: 'Boom', Cause: 'no' } } } });
  });
});

describe('parallel branches', () => {
  test('each branch (a step or a chain) runs; the results are a list in branch order', async () => {
    const stack = new Stack(new App(), 'Par');
    new JobWorkflow(stack, 'Flow', {
      steps: [WorkflowStep.parallel([
        WorkflowStep.invoke(fn(stack, 'A'), { name: 'A' }),
        WorkflowStep.chain([WorkflowStep.invoke(fn(stack, 'B1'), { name: 'B1' }), WorkflowStep.invoke(fn(stack, 'B2'), { name: 'B2' })]),
      ], { name: 'Both' })],
    });
    const definition = localDefinition(Template.fromStack(stack));
    expect(aslValidator(definition)).toMatchObject({ isValid: true, errors: [] });
    const run = await runLocally(definition, { n: 1 }, {
      A: async () => ({ Payload: 'a' }),
      B1: async () => ({ Payload: 'b1' }),
      B2: async (input) => ({ Payload: `${input.Payload.result}+b2` }),
    });
    expect(run.error).toBeUndefined();
    expect(run.output.steps.Both).toEqual([{ result: 'a' }, { result: 'b1+b2' }]);
    expect(definition.States.Both.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Report failure' }]);
  });
});

describe('the state machine resource', () => {
  const { template, workflow, job, stack } = pipeline();
  const id = (type: string, prefix: string) => resourceNamed(template, type, prefix).id;
  const clusterId = id('AWS::ECS::Cluster', 'JobVpcCluster');

  test('role: exactly the documented ECS integration policy narrowed to the cluster, the functions, the bus, logs and X-Ray; no * action', () => {
    const statements = resourceNamed(template, 'AWS::IAM::Policy', 'PipelineRoleDefaultPolicy').props.PolicyDocument.Statement;
    const fnArn = (prefix: string) => {
      const arn = { 'Fn::GetAtt': [id('AWS::Lambda::Function', prefix), 'Arn'] };
      return { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [arn, { 'Fn::Join': ['', [arn, ':*']] }] };
    };
    const inCluster = { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } };
    const family = stack.resolve(job.taskDefinition.family);
    const expected = [
      fnArn('ValidateFn'),
      fnArn('ListFn'),
      fnArn('ItemFn'),
      fnArn('SummarizeFn'),
      { Action: 'ecs:RunTask', Condition: inCluster, Effect: 'Allow', Resource: ecsArn([`:task-definition/${family}:*`]) },
      { Action: ['ecs:StopTask', 'ecs:DescribeTasks'], Condition: inCluster, Effect: 'Allow', Resource: ecsArn([':task/', { Ref: clusterId }, '/*']) },
      {
        Action: 'iam:PassRole',
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        Effect: 'Allow',
        Resource: [{ 'Fn::GetAtt': [id('AWS::IAM::Role', 'JobTaskRole'), 'Arn'] }, { 'Fn::GetAtt': [id('AWS::IAM::Role', 'JobExecutionRole'), 'Arn'] }],
      },
      {
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':rule/StepFunctionsGetEventsForECSTaskRule']] },
      },
      {
        Action: 'events:PutEvents',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] },
      },
      {
        Action: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
        Effect: 'Allow',
        Resource: '*',
      },
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], Effect: 'Allow', Resource: '*' },
    ];
    // the two job steps share statements (merged); order follows the graph walk
    expect(statements).toHaveLength(expected.length);
    expect(statements).toEqual(expect.arrayContaining(expected));
    for (const s of statements) for (const a of [s.Action].flat()) expect(a).not.toBe('*');
  });

  test('the task-token job\'s task role may answer tokens of this state machine only', () => {
    const statements = resourceNamed(template, 'AWS::IAM::Policy', 'JobTaskRoleDefaultPolicy').props.PolicyDocument.Statement;
    expect(statements).toEqual([{
      Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      Effect: 'Allow',
      Resource: { Ref: id('AWS::StepFunctions::StateMachine', 'Pipeline') },
    }]);
  });

  test('logging: every event, without execution data, to a log group kept after deletion; tracing on; a 24-hour timeout', () => {
    const machine = resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'Pipeline').props;
    expect(machine.LoggingConfiguration).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [id('AWS::Logs::LogGroup', 'PipelineLogGroup'), 'Arn'] } } }],
      IncludeExecutionData: false,
      Level: 'ALL',
    });
    expect(machine.TracingConfiguration).toEqual({ Enabled: true });
    expect(localDefinition(template).TimeoutSeconds).toBe(86400);
    // CloudWatch Logs' own encryption unless a key is given: no KMS key per log group
    expect(resourceNamed(template, 'AWS::Logs::LogGroup', 'PipelineLogGroup').props).toEqual({ RetentionInDays: 30 });
    expect(template.findResources('AWS::Logs::LogGroup')[id('AWS::Logs::LogGroup', 'PipelineLogGroup')]).toMatchObject({ DeletionPolicy: 'Retain' });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('logEncryptionKey encrypts the execution log with the given key, whose policy lets CloudWatch Logs of the account use it', () => {
    const keyed = new Stack(new App(), 'Keyed');
    const key = new kms.Key(keyed, 'Key', { enableKeyRotation: true });
    const step = new lambda.Function(keyed, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    new JobWorkflow(keyed, 'Flow', { steps: [WorkflowStep.invoke(step, { name: 'A' })], logEncryptionKey: key });
    const t = Template.fromStack(keyed);
    const keyId = resourceNamed(t, 'AWS::KMS::Key', 'Key').id;
    expect(resourceNamed(t, 'AWS::Logs::LogGroup', 'FlowLogGroup').props.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    t.resourceCountIs('AWS::KMS::Key', 1);
    expect(resourceNamed(t, 'AWS::KMS::Key', 'Key').props.KeyPolicy.Statement).toContainEqual({
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Effect: 'Allow',
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
          },
        },
      },
    });
  });

  test('alarms on failed and timed-out executions', () => {
    expect(propertiesOf(template, 'AWS::CloudWatch::Alarm').map((a) => [a.MetricName, a.Threshold, a.Dimensions[0].Value])).toEqual([
      ['ExecutionsFailed', 1, { Ref: id('AWS::StepFunctions::StateMachine', 'Pipeline') }],
      ['ExecutionsTimedOut', 1, { Ref: id('AWS::StepFunctions::StateMachine', 'Pipeline') }],
    ]);
    expect(workflow.alarms).toHaveLength(2);
  });
});

describe('bad steps fail synth with what to change', () => {
  const stack = () => new Stack(new App(), 'S');
  test.each<[string, () => unknown, string]>([
    ['no steps', () => new JobWorkflow(stack(), 'W', { steps: [] }), 'a workflow needs at least one step'],
    ['a heartbeat on a .sync job', () => WorkflowStep.job(new FargateJob(stack(), 'J', { image: IMAGE }), { heartbeat: Duration.minutes(1) }),
      'heartbeat needs integration: JobIntegration.TASK_TOKEN (a .sync job reports no heartbeats)'],
    ['the reserved token variable', () => WorkflowStep.job(new FargateJob(stack(), 'J', { image: IMAGE }), { environment: { HC_TASK_TOKEN: 'x' } }),
      'environment variable HC_TASK_TOKEN is set by the workflow for TASK_TOKEN jobs: choose another name'],
    ['a map over something that is not a path', () => WorkflowStep.forEach('items', []), "itemsPath must be a path into the state (for example '$.steps.list.items'), got 'items'"],
    ['a parallel with one branch', () => WorkflowStep.parallel([]), 'a parallel step needs at least two branches'],
    ['two steps with one name', () => {
      const s = stack();
      const f = fn(s, 'F');
      return new JobWorkflow(s, 'W', { steps: [WorkflowStep.invoke(f, { name: 'Same' }), WorkflowStep.invoke(f, { name: 'Same' })] });
    }, "two workflow steps are named 'Same': give each step its own name"],
  ])('%s', (_label, make, message) => {
    expect(make).toThrow(message);
  });
});
