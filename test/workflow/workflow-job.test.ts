import { App, Duration, Stack, aws_ecs as ecs, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { localDefinition, runLocally } from './local';
import {
  DispatchTarget, EventBridgeSource, FargateJob, JobCapacity, JobDispatcher, JobField, JobIntegration, JobWorkflow, S3Source, SqsSource, WorkflowStep,
} from '../../src';
import { s3EventBridgeEvent } from '../dispatch/runtime/fixtures';
import { IMAGE } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown, options?: unknown) => { isValid: boolean; errors: unknown[] };

/** A job whose environment and command carry markers, run by a workflow inside and outside a Map. */
function mappedWorkflow(capacity?: JobCapacity, platformVersion?: ecs.FargatePlatformVersion) {
  const app = new App();
  const stack = new Stack(app, 'Flow');
  const job = new FargateJob(stack, 'Job', {
    image: IMAGE,
    capacity,
    platformVersion,
    environment: {
      MODE: 'batch',
      INPUT_URI: JobField.s3Uri(),
      OUTPUT: `s3://out/{literal}/${JobField.s3Key()}.json`,
      JOB: JobField.jobId(),
      SIZE: JobField.fromPath('$.detail.object.size'),
      EVENT: JobField.wholeEvent(),
    },
    command: ['count', '--key', JobField.s3Key(), `--tag=it's ${JobField.s3ETag()}`],
  });
  const workflow = new JobWorkflow(stack, 'Flow', {
    steps: [
      WorkflowStep.job(job, { name: 'Count', environment: { KEY_AGAIN: JobField.s3Key(), FROM_STATE: '$.extra' } }),
      WorkflowStep.forEach('$.items', [WorkflowStep.job(job, { name: 'Count item' })], { name: 'Each' }),
    ],
  });
  return { app, stack, job, workflow, template: () => Template.fromStack(stack) };
}

/** The execution input a dispatcher starts for an S3 object delivered through EventBridge. */
function dispatchedInput(key: string) {
  const event = s3EventBridgeEvent(key);
  return {
    job: {
      id: 'job-1',
      source: 's3',
      fields: {
        's3.bucket': 'input-bucket',
        's3.key': key,
        's3.uri': `s3://input-bucket/${key}`,
        's3.size': '2048',
        's3.etag': 'etag-1',
        's3.versionId': '',
        's3.eventName': 'Object Created',
      },
      event,
    },
    extra: 'from the state',
    items: [1, 2],
  };
}

describe('a workflow job step launches the job as the dispatcher does', () => {
  const { template: synthesized, stack } = mappedWorkflow();
  const template = synthesized();
  const definition = localDefinition(template);

  test('the definition is valid Amazon States Language', () => {
    expect(aslValidator(definition)).toMatchObject({ isValid: true, errors: [] });
  });

  test('mapped environment and command arrive in the overrides, resolved from the execution input', async () => {
    const calls: Record<string, any[]> = {};
    const task = (name: string) => async (input: any) => {
      (calls[name] ??= []).push(input);
      return { TaskArn: `t-${name}`, StopCode: 'EssentialContainerExited', StoppedReason: 'done' };
    };
    const key = 'in/my file: (1).csv';
    // The emulator runs Map iterations like child executions ($$.Execution.Input = the item), unlike an
    // inline Map in Step Functions; the top-level step runs here, the Map's step is checked to be the same state.
    const top = { ...definition, States: { ...definition.States, Each: { Type: 'Pass', Next: 'Done' } } };
    const run = await runLocally(top, dispatchedInput(key), { Count: task('Count') });
    expect(run.error).toBeUndefined();
    const event = dispatchedInput(key).job.event as any;
    expect(calls.Count[0].Overrides.ContainerOverrides).toEqual([{
      Name: 'job',
      Environment: [
        { Name: 'EVENT', Value: JSON.stringify(event) },
        { Name: 'INPUT_URI', Value: `s3://input-bucket/${key}` },
        { Name: 'JOB', Value: 'job-1' },
        { Name: 'OUTPUT', Value: `s3://out/{literal}/${key}.json` },
        { Name: 'SIZE', Value: String(event.detail.object.size) },
        { Name: 'KEY_AGAIN', Value: key },
        { Name: 'FROM_STATE', Value: 'from the state' },
      ],
      Command: ['count', '--key', key, "--tag=it's etag-1"],
    }]);
  });

  test('inside a Map the step reads the same execution input: the same overrides without the step-level entries', () => {
    const outer = definition.States.Count.Parameters.Overrides.ContainerOverrides[0];
    const inner = definition.States.Each.ItemProcessor.States['Count item'].Parameters.Overrides.ContainerOverrides[0];
    expect(inner).toEqual({ ...outer, Environment: outer.Environment.slice(0, 5) });
    expect(JSON.stringify(inner)).toContain('$$.Execution.Input.job');
  });

  test('the RunTask parameters: the deployed task definition revision, on-demand Fargate, private subnets without a public IP', () => {
    const params = definition.States.Count.Parameters;
    expect(definition.States.Count.Resource).toBe('arn:aws:states:::ecs:runTask.sync');
    expect(params.TaskDefinition).toBe(resourceId(template, 'AWS::ECS::TaskDefinition', 'JobTaskDefinition'));
    expect(params.LaunchType).toBe('FARGATE');
    expect(params.CapacityProviderStrategy).toBeUndefined();
    expect(params.PlatformVersion).toBeUndefined();
    expect(params.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    expect(params.NetworkConfiguration.AwsvpcConfiguration.Subnets).toHaveLength(2);
  });

  test('no warning from the library\'s constructs (no subnet imported without a route table)', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('the job\'s capacity and platform version', () => {
  test('Spot: the capacity provider strategy, no launch type', () => {
    const definition = localDefinition(mappedWorkflow(JobCapacity.spot(), ecs.FargatePlatformVersion.VERSION1_4).template());
    expect(definition.States.Count.Parameters.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    expect(definition.States.Count.Parameters.LaunchType).toBeUndefined();
    expect(definition.States.Count.Parameters.PlatformVersion).toBe('1.4.0');
  });

  test('a custom strategy is passed as given', () => {
    const definition = localDefinition(mappedWorkflow(JobCapacity.custom([
      { capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 },
    ])).template());
    expect(definition.States.Count.Parameters.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 1 }, { CapacityProvider: 'FARGATE_SPOT', Weight: 3 },
    ]);
  });
});

describe('markers a workflow cannot resolve fail synth, naming the step', () => {
  test('JobField.payloadUri() in the job', () => {
    const stack = new Stack(new App(), 'S');
    const job = new FargateJob(stack, 'Job', { image: IMAGE, environment: { DOC: JobField.payloadUri() } });
    expect(() => new JobWorkflow(stack, 'W', { steps: [WorkflowStep.job(job, { name: 'Split' })] }))
      .toThrow("workflow step 'Split': environment variable DOC of S/Job uses JobField.payloadUri() (a workflow input has no claim-check document");
  });

  test('an unknown marker in the step environment', () => {
    const stack = new Stack(new App(), 'S');
    const job = new FargateJob(stack, 'Job', { image: IMAGE });
    expect(() => new JobWorkflow(stack, 'W', { steps: [WorkflowStep.job(job, { name: 'Run', environment: { X: '{{hc:s3.colour}}' } })] }))
      .toThrow("workflow step 'Run': environment variable X uses the unknown job field 's3.colour' (build markers with the JobField factories)");
  });

  test('a marker the starting dispatcher\'s sources cannot produce fails synth with the step and the dispatcher', () => {
    const { app, stack, workflow } = mappedWorkflow();
    const queue = new sqs.Queue(stack, 'Orders', { visibilityTimeout: Duration.minutes(6) });
    new JobDispatcher(stack, 'Starter', { target: DispatchTarget.workflow(workflow), sources: [new SqsSource(queue)] });
    expect(() => app.synth()).toThrow(
      /environment variable INPUT_URI of Flow\/Job \(workflow step 'Count'\) uses job field 's3.uri', which only resolves for s3 jobs, but the sources of Flow\/Starter produce sqs jobs/);
  });

  test('sources that produce the fields (S3, or EventBridge matching aws.s3) synthesize', () => {
    const { app, stack, workflow } = mappedWorkflow();
    new JobDispatcher(stack, 'Starter', {
      target: DispatchTarget.workflow(workflow),
      sources: [new S3Source(new s3.Bucket(stack, 'In')), new EventBridgeSource({ eventPattern: { source: ['aws.s3'], detailType: ['Object Created'] } })],
    });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('a task-token job step', () => {
  test('gets HC_TASK_TOKEN after its mapped environment, and waits for the token', () => {
    const stack = new Stack(new App(), 'S');
    const job = new FargateJob(stack, 'Job', { image: IMAGE, environment: { KEY: JobField.s3Key() } });
    new JobWorkflow(stack, 'W', { steps: [WorkflowStep.job(job, { name: 'Approve', integration: JobIntegration.TASK_TOKEN })] });
    const state = localDefinition(Template.fromStack(stack)).States.Approve;
    expect(state.Resource).toBe('arn:aws:states:::ecs:runTask.waitForTaskToken');
    expect(state.Parameters.Overrides.ContainerOverrides[0].Environment).toEqual([
      { 'Name': 'KEY', 'Value.$': "$$.Execution.Input.job.fields['s3.key']" },
      { 'Name': 'HC_TASK_TOKEN', 'Value.$': '$$.Task.Token' },
    ]);
  });
});

function resourceId(template: Template, type: string, prefix: string): string {
  const [id] = Object.keys(template.findResources(type)).filter((k) => k.startsWith(prefix));
  return id;
}
