import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Tracker } from '../../src/tracking/runtime/tracker';
import { fargateTarget, s3Record } from '../dispatch/runtime/fixtures';
import { httpLedger } from '../harness/fake-dynamo';
import { Rig } from '../harness/rig';
import { trackerConfig } from './runtime/events';

/**
 * The retry path end to end: the dispatcher launches through the fake ECS
 * endpoint, the fake emits the task's STOPPED event, the tracker re-enqueues
 * a retry into the dispatch queue, and the dispatcher relaunches it.
 */
let rig: Rig;
let tracker: Tracker;
beforeEach(async () => {
  rig = await Rig.start({ config: { tracking: true }, queue: { msPerSecond: 5 } });
  const common = { region: 'eu-west-1', endpoint: rig.fake.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  tracker = new Tracker(trackerConfig((name) => rig.fake.queueUrl(name), {
    startedBy: rig.config.startedBy, cluster: fargateTarget(rig.config).job.cluster, dispatchQueueUrl: rig.config.dispatchQueueUrl,
  }), {
    ecs: new ECSClient(common),
    sqs: new SQSClient(common),
    events: new EventBridgeClient(common),
    ledger: httpLedger(rig.fake.url),
    log: () => undefined,
    metrics: false,
  });
});
afterEach(() => rig.close());

const SPOT = { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' };
const SUCCESS = { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0 };
const envOf = (task: any) => Object.fromEntries(task.overrides.containerOverrides[0].environment.map((e: any) => [e.name, e.value]));
const stopEvent = (taskArn: string, stop: Parameters<Rig['fake']['stopEvent']>[1]) =>
  ({ messageId: `stop-${taskArn}`, body: JSON.stringify(rig.fake.stopEvent(taskArn, stop)), eventSourceARN: 'tracker' });

test('a job interrupted twice and then successful launches exactly three tasks, and nothing else', async () => {
  rig.queue.send(JSON.stringify({ Records: [s3Record('in/report.csv')] }), { messageId: 'upload' });
  await rig.queue.drain(rig.handler);
  for (const stop of [SPOT, SPOT, SUCCESS]) {
    const running = rig.fake.tasks.filter((t) => !t.stopped);
    expect(running).toHaveLength(1);
    await tracker.handle({ Records: [stopEvent(running[0].taskArn, stop)] });
    await rig.queue.drain(rig.handler);
  }
  expect(rig.fake.tasks).toHaveLength(3);
  expect(rig.fake.tasks.map((t) => [t.attempt, envOf(t).HC_RUN, envOf(t).HC_ATTEMPT, envOf(t).KEY])).toEqual([
    [1, '1', '1', 'in/report.csv'],
    [2, '2', '2', 'in/report.csv'],
    [3, '3', '3', 'in/report.csv'],
  ]);
  expect(new Set(rig.fake.tasks.map((t) => t.jobId)).size).toBe(1);
  expect(rig.fake.events.map((e) => [e.DetailType, e.Detail.run, e.Detail.outcome])).toEqual([['Job Succeeded', 3, 'SUCCEEDED']]);
  expect(rig.fake.messages.filter((m) => m.queueUrl === rig.fake.queueUrl('failed-jobs'))).toEqual([]);
  expect(rig.deadLetters).toEqual([]);
});

test('a stop event delivered twice (EventBridge is at-least-once) still relaunches the job once', async () => {
  rig.queue.send(JSON.stringify({ Records: [s3Record('in/a.csv')] }));
  await rig.queue.drain(rig.handler);
  const first = rig.fake.tasks[0].taskArn;
  const event = stopEvent(first, SPOT);
  await tracker.handle({ Records: [event] });
  await tracker.handle({ Records: [event] });
  // the ledger records the task's outcome and the retry once: the second event sends nothing
  expect(rig.fake.messages.filter((m) => m.queueUrl === rig.config.dispatchQueueUrl)).toHaveLength(1);
  await rig.queue.drain(rig.handler);
  expect(rig.fake.tasks).toHaveLength(2);
  expect(rig.fake.stats.replayed).toBe(0);
});

test('a job interrupted three times ends in the failed-jobs queue, and sending that message to the dispatch queue relaunches it', async () => {
  rig.queue.send(JSON.stringify({ Records: [s3Record('in/b.csv')] }));
  await rig.queue.drain(rig.handler);
  for (let i = 0; i < 3; i++) {
    const running = rig.fake.tasks.filter((t) => !t.stopped);
    await tracker.handle({ Records: [stopEvent(running[0].taskArn, SPOT)] });
    await rig.queue.drain(rig.handler);
  }
  expect(rig.fake.tasks).toHaveLength(3);
  const failed = rig.fake.messages.filter((m) => m.queueUrl === rig.fake.queueUrl('failed-jobs'));
  expect(failed).toHaveLength(1);
  expect(JSON.parse(failed[0].body).failure).toMatchObject({ outcome: 'INTERRUPTED', run: 3, attempt: 3 });
  // redrive: the failed-jobs message body is a dispatch-queue message as is
  rig.queue.send(failed[0].body);
  await rig.queue.drain(rig.handler);
  expect(rig.fake.tasks).toHaveLength(4);
  // a redrive is the job's next run (the ledger accepts it once, while the job is still at run 3)
  expect(envOf(rig.fake.tasks[3])).toMatchObject({ HC_RUN: '4', HC_ATTEMPT: '4', KEY: 'in/b.csv' });
});
