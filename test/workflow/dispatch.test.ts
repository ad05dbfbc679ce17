import { createHash } from 'crypto';
import { App, Stack, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DispatchTarget, JobDispatcher, JobWorkflow, S3Source, WorkflowStep } from '../../src';
import { executionName } from '../../src/dispatch/runtime/workflow-launcher';
import { eventBridgeEvent, s3Record, sqsRecord } from '../dispatch/runtime/fixtures';
import { Rig } from '../harness/rig';
import { renderedConfig, resourceNamed } from '../helpers';

const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:pipeline';
const s3JobId = (key: string) => createHash('sha256').update(`s3|input-bucket|${key}||0065F1A2B3C4D5E6F7`).digest('hex').slice(0, 32);

describe('starting workflows through the dispatcher', () => {
  let rig: Rig;
  afterEach(() => rig?.close());

  test('an S3 event delivered twice (two messages, and each delivered twice) starts exactly one execution, named after the job', async () => {
    rig = await Rig.start({ stateMachineArn: MACHINE, queue: { duplicateRate: 1, msPerSecond: 5 } });
    const body = JSON.stringify({ Records: [s3Record('in/a.csv')] });
    rig.queue.send(body, { messageId: 'first' });
    rig.queue.send(body, { messageId: 'again' }); // S3 notifications are at-least-once
    await rig.queue.drain(rig.handler);
    expect([...rig.fake.executions.values()]).toEqual([{
      stateMachineArn: MACHINE,
      input: expect.any(String),
      executionArn: `arn:aws:states:eu-west-1:111122223333:execution:pipeline:${executionName(s3JobId('in/a.csv'))}`,
    }]);
    expect(rig.fake.startExecutionRepeats).toBeGreaterThanOrEqual(3);
    expect(rig.fake.tasks).toEqual([]);
    expect(rig.deadLetters).toEqual([]);
    const input = JSON.parse([...rig.fake.executions.values()][0].input);
    expect(input.job).toMatchObject({ id: s3JobId('in/a.csv'), source: 's3', fields: { 's3.bucket': 'input-bucket', 's3.key': 'in/a.csv' } });
  });

  test('execution names are deterministic and within Step Functions\' 80 characters', () => {
    expect(executionName('job-1')).toMatch(/^hc-[0-9a-f]{64}$/);
    expect(executionName('job-1')).toBe(executionName('job-1'));
    expect(executionName('job-1')).not.toBe(executionName('job-2'));
  });

  test('an input over 256 KB is dead-lettered with the reason, nothing started', async () => {
    rig = await Rig.start({ stateMachineArn: MACHINE });
    const big = eventBridgeEvent('big-1', { text: 'x'.repeat(270_000) });
    await rig.dispatcher().handle({ Records: [sqsRecord('big', JSON.stringify(big))] });
    expect(rig.deadLetterReasons().big).toMatch(/^workflow input is \d+ bytes, over the Step Functions limit of 262144: keep large payloads in S3 and send their URI$/);
    expect(rig.fake.executions.size).toBe(0);
  });
});

describe('a dispatcher with a workflow target', () => {
  const app = new App();
  const stack = new Stack(app, 'Flow');
  const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
  const workflow = new JobWorkflow(stack, 'Pipeline', { steps: [WorkflowStep.invoke(fn, { name: 'Only' })] });
  const dispatcher = new JobDispatcher(stack, 'Starter', { target: DispatchTarget.workflow(workflow), sources: [new S3Source(new s3.Bucket(stack, 'Input'))] });
  const template = Template.fromStack(stack);

  test('runs the workflow bundle and may start this state machine only', () => {
    expect(dispatcher.target.subject).toBe(workflow);
    expect(dispatcher.target.cluster).toBeUndefined();
    expect(dispatcher.tracker).toBeUndefined();
    expect(dispatcher.claimCheckBucket).toBeUndefined();
    const statements = resourceNamed(template, 'AWS::IAM::Policy', 'StarterRoleDefaultPolicy').props.PolicyDocument.Statement;
    expect(statements).toContainEqual({ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'Pipeline').id } });
    expect(statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('ecs:') || a.startsWith('s3:'))).toEqual([]);
    const config = renderedConfig(stack, 'StarterFunction');
    expect(config.target).toEqual({ kind: 'workflow', stateMachineArn: `<{'Ref':'${resourceNamed(template, 'AWS::StepFunctions::StateMachine', 'Pipeline').id}'}>` });
  });

  test('a dispatcher without a target is rejected with what to pass', () => {
    expect(() => new JobDispatcher(stack, 'Neither', {} as any))
      .toThrow('Flow/Neither needs a target: DispatchTarget.fargateJob(job) or DispatchTarget.workflow(workflow)');
  });
});
