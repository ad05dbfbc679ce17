import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CLUSTER, STARTED_BY, taskStopped, trackerConfig } from './events';
import { JobOutcome } from '../../../src';
import { TrackerConfig } from '../../../src/contract/tracker-config';
import { Tracker } from '../../../src/tracking/runtime/tracker';
import { FakeAws } from '../../harness/fake-aws';
import { httpLedger } from '../../harness/fake-dynamo';

let fake: FakeAws;
const logs: any[] = [];
beforeEach(async () => {
  fake = await FakeAws.start();
  logs.length = 0;
});
afterEach(() => fake.close());

function tracker(overrides: Partial<TrackerConfig> = {}, extra: { now?: () => number; metrics?: boolean } = {}) {
  const common = { region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 };
  return new Tracker(trackerConfig((name) => fake.queueUrl(name), overrides), {
    ecs: new ECSClient(common),
    sqs: new SQSClient(common),
    events: new EventBridgeClient(common),
    ledger: httpLedger(fake.url),
    log: (level, message, fields) => logs.push({ level, message, ...fields }),
    metrics: extra.metrics ?? false,
    now: extra.now,
  });
}
const record = (body: unknown, messageId = 'm1') => ({ messageId, body: JSON.stringify(body), eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:tracker' });
const sentTo = (name: string) => fake.messages.filter((m) => m.queueUrl === fake.queueUrl(name)).map((m) => JSON.parse(m.body));
const MAPPED = { containerOverrides: [{ environment: [{ name: 'KEY', value: 'in/a.txt' }], name: 'job' }] };
const TASK = 'arn:aws:ecs:eu-west-1:111122223333:task/jobs/0f7a1b2c3d4e5f60718293a4b5c6d7e8';

describe('the tracker', () => {
  test('a Spot interruption on run 1 is re-enqueued as run 2 with the next attempt and the same mapped overrides', async () => {
    const res = await tracker().handle({ Records: [record(taskStopped({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', job: {} }))] });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(sentTo('dispatch')).toEqual([{
      hc: {
        version: 1,
        relaunch: { jobId: 'job-1', run: 2, overrides: MAPPED },
        attempt: 2,
        reason: 'retry 1 of 2 after INTERRUPTED: SpotInterruption: Your Spot Task was interrupted.',
      },
    }]);
    expect(sentTo('failed-jobs')).toEqual([]);
    expect(fake.events).toEqual([]);
  });

  test('the same interruption on run 3 (retries used up) goes to the failed-jobs queue, ready for redrive, and publishes Job Failed', async () => {
    await tracker().handle({
      Records: [record(taskStopped({
        stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', job: {}, env: { HC_RUN: '3', HC_ATTEMPT: '4' },
      }))],
    });
    expect(sentTo('dispatch')).toEqual([]);
    expect(sentTo('failed-jobs')).toEqual([{
      hc: { version: 1, relaunch: { jobId: 'job-1', run: 4, overrides: MAPPED }, attempt: 5, reason: 'redrive of a job that ended INTERRUPTED' },
      failure: {
        jobId: 'job-1',
        outcome: 'INTERRUPTED',
        reason: 'SpotInterruption: Your Spot Task was interrupted.',
        taskArn: TASK,
        cluster: CLUSTER,
        run: 3,
        attempt: 4,
        stoppedAt: '2026-11-27T10:05:00.000Z',
      },
    }]);
    expect(fake.events).toEqual([{
      Source: 'cdk-hybrid-compute',
      DetailType: 'Job Failed',
      EventBusName: 'default',
      Detail: {
        jobId: 'job-1',
        outcome: 'INTERRUPTED',
        reason: 'SpotInterruption: Your Spot Task was interrupted.',
        run: 3,
        attempt: 4,
        taskArn: TASK,
        cluster: CLUSTER,
        enqueuedAt: '2026-11-27T09:59:50.000Z',
        startedAt: '2026-11-27T10:00:10.000Z',
        stoppedAt: '2026-11-27T10:05:00.000Z',
        compute: 'fargate',
        dispatcher: STARTED_BY,
      },
    }]);
  });

  test('a non-zero exit is not retried by default', async () => {
    await tracker().handle({ Records: [record(taskStopped({ job: { exitCode: 3 } }))] });
    expect(sentTo('dispatch')).toEqual([]);
    expect(sentTo('failed-jobs')[0].failure).toMatchObject({ outcome: 'FAILED', exitCode: 3, reason: "essential container 'job' exited with 3" });
  });

  test('unless FAILED is made retryable', async () => {
    await tracker({ retryableOutcomes: [JobOutcome.FAILED] }).handle({ Records: [record(taskStopped({ job: { exitCode: 3 } }))] });
    expect(sentTo('dispatch')[0].hc).toMatchObject({ relaunch: { run: 2 }, attempt: 2 });
  });

  test('a success publishes Job Succeeded and sends nothing', async () => {
    await tracker().handle({ Records: [record(taskStopped())] });
    expect(fake.messages).toEqual([]);
    expect(fake.events.map((e) => [e.DetailType, e.Detail.outcome, e.Detail.exitCode])).toEqual([['Job Succeeded', 'SUCCEEDED', 0]]);
  });

  test('tasks of another dispatcher, untracked tasks and other events are ignored', async () => {
    const t = tracker();
    const untracked = taskStopped();
    untracked.detail.overrides.containerOverrides[0].environment = [];
    const results = await Promise.all([
      t.processRecord(record(taskStopped({ startedBy: 'hc-someone-else' }))),
      t.processRecord(record(untracked)),
      t.processRecord(record({ 'detail-type': 'ECS Container Instance State Change', 'detail': {} })),
      t.processRecord({ ...record({}), body: 'not json' }),
    ]);
    expect(results).toEqual([undefined, undefined, undefined, undefined]);
    expect(fake.messages).toEqual([]);
    expect(fake.events).toEqual([]);
  });

  test('when publishing fails the record is retried (batchItemFailures)', async () => {
    const t = tracker();
    (t as any).clients.events.middlewareStack.add(() => async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }, { step: 'initialize' });
    const res = await t.handle({ Records: [record(taskStopped(), 'ok-but-unpublished')] });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'ok-but-unpublished' }] });
    expect(logs.find((l) => l.message === 'tracking failed, will retry')).toMatchObject({ error: 'ThrottlingException: Rate exceeded' });
  });

  test('emits EMF metrics: the outcome per dispatcher and outcome, and the durations', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      await tracker({}, { metrics: true }).handle({ Records: [record(taskStopped({ job: { exitCode: 1 } }))] });
    } finally {
      spy.mockRestore();
    }
    const docs = lines.map((l) => JSON.parse(l)).filter((d) => d._aws);
    expect(docs).toEqual([
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'cdk-hybrid-compute', Dimensions: [['Dispatcher'], ['Dispatcher', 'Outcome']], Metrics: [{ Name: 'TasksStopped', Unit: 'Count' }, { Name: 'JobsFailed', Unit: 'Count' }] }] },
        Dispatcher: STARTED_BY,
        Outcome: 'FAILED',
        TasksStopped: 1,
        JobsFailed: 1,
      },
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'cdk-hybrid-compute', Dimensions: [['Dispatcher']], Metrics: [{ Name: 'RunDuration', Unit: 'Seconds' }, { Name: 'QueueToStart', Unit: 'Seconds' }, { Name: 'QueueToStop', Unit: 'Seconds' }] }] },
        Dispatcher: STARTED_BY,
        RunDuration: 290,
        QueueToStart: 20,
        QueueToStop: 310,
      },
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'cdk-hybrid-compute', Dimensions: [['Dispatcher', 'Compute']], Metrics: [{ Name: 'EstimatedCost', Unit: 'None' }, { Name: 'EstimatedCostOtherModel', Unit: 'None' }] }] },
        Dispatcher: STARTED_BY,
        Compute: 'fargate',
        // 0.25 vCPU / 0.5 GB x86 on-demand, billed from the pull (10:00:05) to the stop (10:05:00): 295 s
        EstimatedCost: expect.closeTo((0.25 * 0.04048 + 0.5 * 0.004445) * 295 / 3600, 12),
        // the 290 s run on Lambda, 512 MB arm64: 0.5 GB x 290 s x $0.0000133334 + $0.0000002
        EstimatedCostOtherModel: expect.closeTo(0.5 * 290 * 0.0000133334 + 0.0000002, 12),
      },
    ]);
  });
});

describe('the timeout sweep', () => {
  test('stops exactly the tasks of this dispatcher running longer than the timeout, with the timeout reason', async () => {
    const ecs = new ECSClient({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const launch = (token: string, startedBy = STARTED_BY) => ecs.send(new RunTaskCommand({
      cluster: CLUSTER, taskDefinition: 'count:3', launchType: 'FARGATE', clientToken: token, startedBy,
    }));
    const old = (await launch('old')).tasks![0].taskArn!;
    await launch('young');
    const othersOld = (await launch('other', 'hc-someone-else')).tasks![0].taskArn!;
    for (const t of fake.tasks) if (t.taskArn === old || t.taskArn === othersOld) t.startedAt -= 120_000;
    const stopped = await tracker({ timeoutSeconds: 60 }).sweep();
    expect(stopped).toEqual([old]);
    expect(fake.stopped).toEqual([{ task: old, reason: 'cdk-hybrid-compute: job timed out after 60 s' }]);
  });

  test('a scheduled event runs the sweep; without a timeout it does nothing', async () => {
    const scheduled = { 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'detail': {} };
    await tracker().handle({ Records: [record(scheduled)] });
    expect(fake.calls).toEqual([]);
  });
});
