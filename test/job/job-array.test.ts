import { Size, aws_events as events, aws_events_targets as targets, aws_lambda as lambda, aws_sqs as sqs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  ArrayFailurePolicy, ComputeRoute, ComputeTarget, DispatchTarget, JobArray, JobDispatcher, JobTracking,
} from '../../src';
import { job, renderedConfig, renderedTrackerConfig, resourceNamed, stackWithCluster } from '../helpers';

const trackerConfig = (template: Template) => renderedTrackerConfig(template);

describe('JobArray', () => {
  test('ofSize: the dispatcher launches arrays of that size, the tracker counts them, the dispatcher may publish completions', () => {
    const { stack, cluster } = stackWithCluster();
    const bus = new events.EventBus(stack, 'Bus');
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster), { array: JobArray.ofSize(25), tracking: JobTracking.enabled({ eventBus: bus }) }),
    });
    const template = Template.fromStack(stack);
    const busRef = { Ref: resourceNamed(template, 'AWS::Events::EventBus', 'Bus').id };
    expect(renderedConfig(stack).target.array).toEqual({ size: 25, failParent: false, eventBusName: `<{'Ref':'${busRef.Ref}'}>` });
    expect(trackerConfig(template).arrays).toEqual({ failParent: false });
    const statements = resourceNamed(template, 'AWS::IAM::Policy', 'DispatcherRoleDefaultPolicy').props.PolicyDocument.Statement;
    expect(statements).toContainEqual({
      Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [busRef.Ref, 'Arn'] },
    });
  });

  test('fromList with FAIL_PARENT', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster), {
        array: JobArray.fromList('$.detail.files', { onChildFailure: ArrayFailurePolicy.FAIL_PARENT }),
      }),
    });
    const template = Template.fromStack(stack);
    expect(renderedConfig(stack).target.array).toEqual({ listPath: '$.detail.files', failParent: true, eventBusName: 'default' });
    expect(trackerConfig(template).arrays).toEqual({ failParent: true });
  });

  test('without an array the dispatcher gets no events permission', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)) });
    const statements = resourceNamed(Template.fromStack(stack), 'AWS::IAM::Policy', 'DispatcherRoleDefaultPolicy').props.PolicyDocument.Statement;
    expect(statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('events:'))).toEqual([]);
  });

  test.each([
    ['1 child', () => JobArray.ofSize(1), 'JobArray.ofSize() takes a whole number of children from 2 to 10,000, got 1'],
    ['10,001 children', () => JobArray.ofSize(10_001), 'JobArray.ofSize() takes a whole number of children from 2 to 10,000, got 10001'],
    ['a path that is not a path', () => JobArray.fromList('detail.files'), "must start with '$'"],
  ])('%s is rejected', (_label, make, message) => {
    expect(make).toThrow(message);
  });

  test('an array without tracking is rejected: nothing would count its children', () => {
    const { stack, cluster } = stackWithCluster();
    expect(() => DispatchTarget.fargateJob(job(stack, cluster), { array: JobArray.ofSize(3), tracking: JobTracking.disabled() })).toThrow(
      'an array job needs tracking (the tracker counts its children and publishes its completion): remove JobTracking.disabled() or the array option');
  });

  test('a route does not launch arrays', () => {
    const { stack, cluster } = stackWithCluster();
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    expect(() => DispatchTarget.route({
      rules: [ComputeRoute.whenSizeBelow(Size.mebibytes(1), ComputeTarget.lambdaFunction(fn))],
      otherwise: ComputeTarget.fargate(job(stack, cluster)),
      array: JobArray.ofSize(3),
    })).toThrow('DispatchTarget.route() does not launch array jobs: use DispatchTarget.fargateJob(job, { array }) for them');
  });
});

describe('outcome event rules', () => {
  test('onJobSucceeded / onJobFailed / onArrayJobCompleted match this dispatcher\'s events on the tracker\'s bus, with the target given', () => {
    const { stack, cluster } = stackWithCluster();
    const bus = new events.EventBus(stack, 'Bus');
    const dispatcher = new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster), { array: JobArray.ofSize(4), tracking: JobTracking.enabled({ eventBus: bus }) }),
    });
    const queue = new sqs.Queue(stack, 'Inbox', { enforceSSL: true });
    dispatcher.onJobSucceeded('Succeeded', { target: new targets.SqsQueue(queue) });
    dispatcher.onJobFailed('Failed', { eventPattern: { detail: { outcome: ['TIMED_OUT'] } } });
    dispatcher.onArrayJobCompleted('Completed');
    const template = Template.fromStack(stack);
    const busArn = { 'Fn::GetAtt': [resourceNamed(template, 'AWS::Events::EventBus', 'Bus').id, 'Arn'] };
    const rule = (prefix: string) => resourceNamed(template, 'AWS::Events::Rule', prefix).props;
    expect(rule('DispatcherSucceeded')).toMatchObject({
      EventBusName: { Ref: busArn['Fn::GetAtt'][0] },
      EventPattern: { 'source': ['cdk-hybrid-compute'], 'detail-type': ['Job Succeeded'], 'detail': { dispatcher: [dispatcher.startedBy] } },
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [resourceNamed(template, 'AWS::SQS::Queue', 'Inbox').id, 'Arn'] } })],
    });
    expect(rule('DispatcherFailed').EventPattern).toEqual({
      'source': ['cdk-hybrid-compute'], 'detail-type': ['Job Failed'], 'detail': { dispatcher: [dispatcher.startedBy], outcome: ['TIMED_OUT'] },
    });
    expect(rule('DispatcherCompleted').EventPattern['detail-type']).toEqual(['Array Job Completed']);
  });

  test('a dispatcher that publishes no outcomes says so', () => {
    const { stack, cluster } = stackWithCluster();
    const dispatcher = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { tracking: JobTracking.disabled() }) });
    expect(() => dispatcher.onJobFailed('Failed')).toThrow(
      'Test/Dispatcher: onJobFailed() needs the outcome events of a tracked Fargate job or a route: this dispatcher\'s target (fargateJob) '
      + 'publishes none with JobTracking.disabled()');
  });
});
