import { Duration, aws_events as events, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DispatchTarget, JobDashboard, JobDispatcher, JobLedger, JobOutcome, JobTracker, JobTracking, RetryAction, RetryRule } from '../../src';
import { ecsArn, job, propertiesOf, renderedConfig, renderedTrackerConfig, resourceNamed, stackWithCluster } from '../helpers';

const trackerConfig = (template: Template) => renderedTrackerConfig(template);

describe('the tracker a dispatcher creates', () => {
  const { stack, cluster } = stackWithCluster();
  const topic = new sns.Topic(stack, 'Topic');
  const dispatcher = new JobDispatcher(stack, 'Dispatcher', {
    target: DispatchTarget.fargateJob(job(stack, cluster), { tracking: JobTracking.enabled({ timeout: Duration.hours(2) }) }), alarmTopic: topic,
  });
  new JobDashboard(stack, 'Dashboard', { dispatcher });
  const template = Template.fromStack(stack);
  const id = (type: string, prefix: string) => resourceNamed(template, type, prefix).id;
  const clusterId = id('AWS::ECS::Cluster', 'Cluster');

  test('a rule on stopped tasks of this cluster started by this dispatcher feeds the tracker queue, with a DLQ', () => {
    const rule = resourceNamed(template, 'AWS::Events::Rule', 'DispatcherTrackerTaskStopped').props;
    expect(rule.EventPattern).toEqual({
      'source': ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      'detail': { clusterArn: [{ 'Fn::GetAtt': [clusterId, 'Arn'] }], lastStatus: ['STOPPED'], startedBy: [dispatcher.startedBy] },
    });
    expect(rule.Targets).toEqual([{
      Arn: { 'Fn::GetAtt': [id('AWS::SQS::Queue', 'DispatcherTrackerQueue'), 'Arn'] },
      Id: 'Target0',
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id('AWS::SQS::Queue', 'DispatcherTrackerDeadLetterQueue'), 'Arn'] } },
    }]);
    const sweep = resourceNamed(template, 'AWS::Events::Rule', 'DispatcherTrackerTimeoutSweep').props;
    expect(sweep.ScheduleExpression).toBe('rate(1 minute)');
  });

  test('tracker role: exactly these statements, no * action, StopTask only on tasks of the job\'s cluster', () => {
    const statements = resourceNamed(template, 'AWS::IAM::Policy', 'DispatcherTrackerRoleDefaultPolicy').props.PolicyDocument.Statement;
    const arn = (prefix: string, type = 'AWS::SQS::Queue') => ({ 'Fn::GetAtt': [id(type, prefix), 'Arn'] });
    expect(statements).toEqual([
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: arn('DispatcherTrackerLogGroup', 'AWS::Logs::LogGroup') },
      {
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Effect: 'Allow',
        Resource: arn('DispatcherTrackerQueue'),
      },
      { Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id('AWS::DynamoDB::Table', 'DispatcherLedger'), 'Arn'] } },
      { Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Effect: 'Allow', Resource: arn('DispatcherTrackerFailedJobsQueue') },
      { Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Effect: 'Allow', Resource: arn('DispatcherQueue') },
      {
        Action: 'events:PutEvents',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] },
      },
      { Action: 'ecs:ListTasks', Effect: 'Allow', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } } },
      {
        Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
        Effect: 'Allow',
        Resource: ecsArn([':task/', { Ref: clusterId }, '/*']),
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } },
      },
    ]);
  });

  test('the tracker config: the job\'s container, retries into the dispatch queue, the timeout, the default bus', () => {
    expect(trackerConfig(template)).toEqual({
      version: 3,
      ledger: { table: `<{'Ref':'${id('AWS::DynamoDB::Table', 'DispatcherLedger')}'}>`, ttlSeconds: 30 * 86400 },
      startedBy: dispatcher.startedBy,
      cluster: `<{'Fn::GetAtt':['${clusterId}','Arn']}>`,
      containerName: 'job',
      dispatchQueueUrl: `<{'Ref':'${id('AWS::SQS::Queue', 'DispatcherQueue')}'}>`,
      failedJobsQueueUrl: `<{'Ref':'${id('AWS::SQS::Queue', 'DispatcherTrackerFailedJobsQueue')}'}>`,
      retryAttempts: 2,
      retryableOutcomes: ['INTERRUPTED', 'FAILED_TO_START', 'START_TIMED_OUT'],
      timeoutSeconds: 7200,
      eventBusName: 'default',
    });
    expect(renderedConfig(stack).target.tracking).toBe(true);
  });

  test('failed-jobs and tracker queues are encrypted and SSL-only', () => {
    for (const prefix of ['DispatcherTrackerQueue', 'DispatcherTrackerDeadLetterQueue', 'DispatcherTrackerFailedJobsQueue']) {
      expect(resourceNamed(template, 'AWS::SQS::Queue', prefix).props.SqsManagedSseEnabled).toBe(true);
      const policy = propertiesOf(template, 'AWS::SQS::QueuePolicy').find((p) => p.Queues[0].Ref === id('AWS::SQS::Queue', prefix));
      expect(policy.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
  });

  test('alarms: each metric, threshold and period, all notifying the topic', () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([logicalId, r]: [string, any]) => {
      const p = r.Properties;
      const metric = p.MetricName ? `${p.Namespace}/${p.MetricName}/${p.Statistic}/${p.Period}` : p.Metrics.map((m: any) => m.Expression ?? `${m.Id}=${m.MetricStat.Metric.MetricName}`).join(' ');
      expect(p.AlarmActions).toEqual([{ Ref: id('AWS::SNS::Topic', 'Topic') }]);
      expect(p.TreatMissingData).toBe('notBreaching');
      expect(p.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      return [logicalId.replace(/^DispatcherAlarms/, '').replace(/[0-9A-F]{8}$/, ''), metric, p.Threshold, p.EvaluationPeriods];
    });
    expect(alarms).toEqual([
      ['DeadLetters', 'AWS/SQS/ApproximateNumberOfMessagesVisible/Maximum/60', 1, 1],
      ['OldestRecord', 'AWS/SQS/ApproximateAgeOfOldestMessage/Maximum/60', 900, 3],
      ['DispatcherErrors', 'AWS/Lambda/Errors/Sum/300', 1, 1],
      ['FailedJobs', 'AWS/SQS/ApproximateNumberOfMessagesVisible/Maximum/60', 1, 1],
      ['TrackerDeadLetters', 'AWS/SQS/ApproximateNumberOfMessagesVisible/Maximum/60', 1, 1],
      ['FailureRate', 'IF(ok + failed > 0, failed / (ok + failed), 0) ok=JobsSucceeded failed=JobsFailed', 0.1, 1],
    ]);
    expect(dispatcher.alarms).toHaveLength(6);
  });

  test('dashboard: queue, dead letters, launches, running tasks, outcomes, durations, functions, alarms', () => {
    const body = resourceNamed(template, 'AWS::CloudWatch::Dashboard', 'Dashboard').props.DashboardBody;
    const text = JSON.stringify(body);
    const titles = [...text.matchAll(/\\"title\\":\\"([^\\]+)\\"/g)].map((m) => m[1]);
    expect(titles).toEqual([
      'Dispatch queue', 'Dead letters and failed jobs', 'Launches', 'Running tasks (cluster, Container Insights)',
      'Outcomes', 'Durations (s)', 'Estimated cost (USD per hour), and on the other model', 'Functions', 'Alarms',
    ]);
    for (const metric of ['JobsLaunched', 'LaunchFailures', 'RecordsDeadLettered', 'JobsSucceeded', 'JobsFailed', 'JobRetries', 'RunDuration', 'QueueToStart', 'RunningTaskCount']) {
      expect(text).toContain(`\\"${metric}\\"`);
    }
  });

  test('metric methods name the library namespace and this dispatcher', () => {
    const m = dispatcher.tracker!.metricJobsFailed({ outcome: JobOutcome.TIMED_OUT });
    expect([m.namespace, m.metricName, m.dimensions, m.statistic]).toEqual(['cdk-hybrid-compute', 'JobsFailed', { Dispatcher: dispatcher.startedBy, Outcome: 'TIMED_OUT' }, 'Sum']);
    expect(dispatcher.metricJobsLaunched().dimensions).toEqual({ Dispatcher: dispatcher.startedBy });
    expect(dispatcher.tracker!.metricRunDuration().statistic).toBe('p90');
  });
});

describe('tracking options', () => {
  test('disabled: no tracker, no tracking entries, three alarms', () => {
    const { stack, cluster } = stackWithCluster();
    const d = new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { tracking: JobTracking.disabled() }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(d.tracker).toBeUndefined();
    expect(renderedConfig(stack).target.tracking).toBeUndefined();
    expect(d.alarms.map((a) => a.node.id)).toEqual(['DeadLetters', 'OldestRecord', 'DispatcherErrors']);
  });

  test('without a timeout there is no sweep and no ECS permission', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 1);
    const actions = resourceNamed(template, 'AWS::IAM::Policy', 'DispatcherTrackerRoleDefaultPolicy').props.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('ecs:'))).toEqual([]);
  });

  test('a custom bus receives the outcome events', () => {
    const { stack, cluster } = stackWithCluster();
    const bus = new events.EventBus(stack, 'Outcomes');
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster), { tracking: JobTracking.enabled({ eventBus: bus }) }) });
    const template = Template.fromStack(stack);
    expect(trackerConfig(template).eventBusName).toBe(`<{'Ref':'${resourceNamed(template, 'AWS::Events::EventBus', 'Outcomes').id}'}>`);
    expect(resourceNamed(template, 'AWS::IAM::Policy', 'DispatcherTrackerRoleDefaultPolicy').props.PolicyDocument.Statement).toContainEqual({
      Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [resourceNamed(template, 'AWS::Events::EventBus', 'Outcomes').id, 'Arn'] },
    });
  });

  test('a standalone tracker without a retry queue sends every unsuccessful job to the failed-jobs queue', () => {
    const { stack, cluster } = stackWithCluster();
    const tracker = new JobTracker(stack, 'Tracker', { job: job(stack, cluster), startedBy: 'my-launcher', ledger: new JobLedger(stack, 'Ledger') });
    const fn = resourceNamed(Template.fromStack(stack), 'AWS::Lambda::Function', 'TrackerFunction').props;
    const text = JSON.stringify(fn.Environment.Variables.HC_TRACKER_CONFIG);
    expect(text).not.toContain('dispatchQueueUrl');
    expect(tracker.startedBy).toBe('my-launcher');
  });

  test.each([
    ['11 retries', { retryAttempts: 11 }, 'retryAttempts must be a whole number from 0 to 10, got 11'],
    ['1.5 retries', { retryAttempts: 1.5 }, 'retryAttempts must be a whole number from 0 to 10, got 1.5'],
    ['retrying successes', { retryableOutcomes: [JobOutcome.SUCCEEDED] }, 'retryableOutcomes cannot include SUCCEEDED: a job that succeeded is never run again'],
    ['a 30-second timeout', { timeout: Duration.seconds(30) }, 'timeout must be between 1 minute and 14 days, got 30 seconds'],
    ['a 2-day start timeout', { startTimeout: Duration.days(2) }, 'startTimeout must be between 1 minute and 1 day, got 2 days'],
    ['11 retry rules', { retryRules: Array.from({ length: 11 }, (_, i) => RetryRule.onExitCode(i)) },
      "retryRules takes at most 10 rules, got 11: merge rules with a reason pattern such as '*Spot*'"],
  ])('%s is rejected', (_label, options, message) => {
    expect(() => JobTracking.enabled(options)).toThrow(message);
  });

  test.each([
    ['exit code 256', () => RetryRule.onExitCode(256), 'RetryRule.onExitCode() takes an exit code from 0 to 255, got 256'],
    ['an empty reason pattern', () => RetryRule.onReason(''), 'RetryRule.onReason() takes a pattern of 1 to 512 characters, got 0'],
    ['retrying successes', () => RetryRule.onOutcome(JobOutcome.SUCCEEDED), 'RetryRule.onOutcome() cannot match SUCCEEDED: a job that succeeded is never run again'],
  ])('a retry rule on %s is rejected', (_label, make, message) => {
    expect(make).toThrow(message);
  });

  test('retry rules and a start timeout reach the tracker config in order; the sweep runs for the start timeout alone', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job(stack, cluster), {
        tracking: JobTracking.enabled({
          retryRules: [RetryRule.onExitCode(2, RetryAction.EXIT), RetryRule.onReason('*Spot*'), RetryRule.onOutcome(JobOutcome.TIMED_OUT)],
          startTimeout: Duration.minutes(15),
        }),
      }),
    });
    const template = Template.fromStack(stack);
    const config = trackerConfig(template);
    expect(config.retryRules).toEqual([
      { kind: 'exitCode', value: '2', action: 'exit', description: 'onExitCode(2) -> EXIT' },
      { kind: 'reason', value: '*Spot*', action: 'retry', description: "onReason('*Spot*') -> RETRY" },
      { kind: 'outcome', value: 'TIMED_OUT', action: 'retry', description: 'onOutcome(TIMED_OUT) -> RETRY' },
    ]);
    expect(config.startTimeoutSeconds).toBe(900);
    expect(config.timeoutSeconds).toBeUndefined();
    const sweep = resourceNamed(template, 'AWS::Events::Rule', 'DispatcherTrackerTimeoutSweep').props;
    expect(sweep.ScheduleExpression).toBe('rate(1 minute)');
    expect(sweep.Description).toMatch(/ tasks not running within 15 minutes$/);
  });

  test('a failure-rate threshold outside (0, 1] is rejected', () => {
    const { stack, cluster } = stackWithCluster();
    expect(() => new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)), failureRateAlarmThreshold: 1.5 }))
      .toThrow('failureRateAlarmThreshold must be above 0 and at most 1, got 1.5');
  });
});
