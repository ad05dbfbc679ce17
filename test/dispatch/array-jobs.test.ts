import { ArrayConfig } from '../../src/contract/dispatch-config';
import { seededRandom } from '../harness/fake-aws';
import { Rig, RigOptions } from '../harness/rig';
import { shippedTracker, ShippedTracker, Stop } from '../harness/shipped-tracker';
import { eventBridgeEvent, s3Record } from './runtime/fixtures';

/**
 * Array jobs end to end through the shipped dispatcher and tracker bundles
 * against the fakes: one event, N children launched exactly once, one
 * `Array Job Completed` event whatever the stop events do.
 */
let r: Rig;
afterEach(() => r?.close());

const BUS = 'default';
const SUCCESS: Stop = { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0 };
const EXIT1: Stop = { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 1 };
const PULL: Stop = { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' };

async function start(array: Partial<ArrayConfig>, options: RigOptions = {}): Promise<ShippedTracker> {
  r = await Rig.start({
    bundle: true,
    ...options,
    config: { tracking: true, array: { failParent: false, eventBusName: BUS, ...array }, ...options.config },
    queue: { msPerSecond: 5, ...options.queue },
  });
  return shippedTracker(r, { arrays: { failParent: array.failParent ?? false } });
}

const envOf = (task: any): Record<string, string> =>
  Object.fromEntries(task.overrides.containerOverrides[0].environment.map((e: any) => [e.name, e.value]));
const completions = () => r.fake.events.filter((e) => e.DetailType === 'Array Job Completed');
const running = () => r.fake.tasks.filter((t) => !t.stopped);
const parentItem = () => r.fake.dynamo.items('jobs').find((i) => i.arraySize)!;
const s3Event = (key: string) => JSON.stringify({ Records: [s3Record(key)] });

test('25 children: each launched once with its index, a duplicate delivery launches none; duplicated and reordered stop events give one completion', async () => {
  const tracker = await start({ size: 25 });
  r.queue.send(s3Event('in/batch.csv'));
  r.queue.send(s3Event('in/batch.csv'));
  await r.queue.drain(r.handler);
  expect(r.fake.tasks).toHaveLength(25);
  const parent = envOf(r.fake.tasks[0]).HC_ARRAY_JOB_ID;
  const indices = r.fake.tasks.map((t) => Number(envOf(t).HC_ARRAY_INDEX)).sort((a, b) => a - b);
  expect(indices).toEqual(Array.from({ length: 25 }, (_, i) => i));
  expect(r.fake.tasks.map((t) => [t.jobId, envOf(t).HC_JOB_ID, envOf(t).HC_ARRAY_SIZE, envOf(t).KEY])).toEqual(
    r.fake.tasks.map((t) => [`${parent}[${envOf(t).HC_ARRAY_INDEX}]`, `${parent}[${envOf(t).HC_ARRAY_INDEX}]`, '25', 'in/batch.csv']));
  expect(r.fake.stats.replayed).toBe(0);

  // Stop events out of order, every third one twice, some redelivered after the completion.
  const random = seededRandom(7);
  const events = r.fake.tasks.map((t) => r.fake.stopEvent(t.taskArn, SUCCESS)).sort(() => random() - 0.5);
  for (const [i, event] of events.entries()) {
    await tracker.deliver(event);
    if (i % 3 === 0) await tracker.deliver(event);
  }
  await tracker.deliver(events[0]);
  expect(completions()).toHaveLength(1);
  expect(completions()[0].Detail).toEqual(expect.objectContaining({
    arrayJobId: parent, dispatcher: r.config.startedBy, status: 'SUCCEEDED', size: 25, succeeded: 25, failed: 0, cancelled: 0,
  }));
  expect(parentItem()).toMatchObject({ status: { S: 'SUCCEEDED' }, childrenSucceeded: { N: '25' }, completionSent: { BOOL: true } });
  // Each child's own outcome is published too, naming its parent.
  const succeeded = r.fake.events.filter((e) => e.DetailType === 'Job Succeeded');
  expect(succeeded).toHaveLength(25);
  expect(new Set(succeeded.map((e) => e.Detail.arrayIndex)).size).toBe(25);
  expect(succeeded.every((e) => e.Detail.arrayJobId === parent && e.Detail.dispatcher === r.config.startedBy)).toBe(true);
});

test('a child that keeps failing is retried with its own index, ends in the failed-jobs queue, and the parent completes FAILED', async () => {
  const tracker = await start({ size: 5 });
  r.queue.send(s3Event('in/five.csv'));
  await r.queue.drain(r.handler);
  const child = (i: number) => running().find((t) => envOf(t).HC_ARRAY_INDEX === String(i))!;
  for (let run = 1; run <= 3; run++) {
    const task = child(3);
    expect(envOf(task)).toMatchObject({ HC_ARRAY_INDEX: '3', HC_ARRAY_SIZE: '5', HC_RUN: String(run) });
    await tracker.stop(task.taskArn, PULL);
    await r.queue.drain(r.handler);
  }
  expect(child(3)).toBeUndefined();
  expect(completions()).toEqual([]);
  for (const i of [0, 1, 2, 4]) await tracker.stop(child(i).taskArn, SUCCESS);
  expect(r.fake.tasks).toHaveLength(7);
  const failed = r.fake.messages.filter((m) => m.queueUrl === r.fake.queueUrl('failed-jobs')).map((m) => JSON.parse(m.body).failure);
  expect(failed).toEqual([expect.objectContaining({ outcome: 'FAILED_TO_START', run: 3 })]);
  expect(failed[0].jobId).toMatch(/\[3\]$/);
  expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', size: 5, succeeded: 4, failed: 1, cancelled: 0 })]);
});

test('FAIL_PARENT: the first failure fails the parent, is not retried, and the children not launched yet are cancelled', async () => {
  const tracker = await start({ size: 12, failParent: true }, { config: { maxConcurrentTasks: 4 } });
  r.queue.send(s3Event('in/twelve.csv'), { messageId: 'm' });
  await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
  expect(running()).toHaveLength(4);
  await tracker.stop(running()[0].taskArn, EXIT1);
  await tracker.stop(running()[0].taskArn, SUCCESS);
  // The next delivery finds the parent failed: nothing more launches.
  await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
  expect(r.fake.tasks).toHaveLength(4);
  expect(parentItem()).toMatchObject({ status: { S: 'FAILED' }, arrayLaunched: { N: '12' }, childrenCancelled: { N: '8' } });
  expect(completions()).toEqual([]);
  for (const t of running()) await tracker.stop(t.taskArn, SUCCESS);
  expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', size: 12, succeeded: 3, failed: 1, cancelled: 8 })]);
  // No retry was enqueued for the failed child.
  expect(r.fake.messages.filter((m) => m.queueUrl === r.config.dispatchQueueUrl && m.body.includes('"relaunch"'))).toEqual([]);
});

test('FAIL_PARENT: when the running children stop before the cancellation, the dispatcher publishes the completion', async () => {
  const tracker = await start({ size: 6, failParent: true }, { config: { maxConcurrentTasks: 2 } });
  r.queue.send(s3Event('in/six.csv'), { messageId: 'm' });
  await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
  const [a, b] = running();
  await tracker.stop(a.taskArn, EXIT1);
  await tracker.stop(b.taskArn, SUCCESS);
  expect(completions()).toEqual([]);
  await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
  expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', succeeded: 1, failed: 1, cancelled: 4 })]);
  await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
  expect(completions()).toHaveLength(1);
  expect(r.fake.tasks).toHaveLength(2);
});

test('130 children with a short invocation: each delivery launches a step or more, the rest continue at once in a new message; each child once', async () => {
  await start({ size: 130 }, { deadlineMs: 1_000 });
  r.queue.send(s3Event('in/many.csv'));
  await r.queue.drain(r.handler);
  expect(r.fake.tasks).toHaveLength(130);
  expect(new Set(r.fake.tasks.map((t) => t.jobId)).size).toBe(130);
  const continuations = r.fake.messages.filter((m) => m.queueUrl === r.config.dispatchQueueUrl);
  expect(continuations.length).toBeGreaterThanOrEqual(2);
  expect(continuations.every((m) => m.delaySeconds === 0 && JSON.parse(m.body).hc.reason.startsWith('array job '))).toBe(true);
  expect(r.deadLetters).toEqual([]);
  expect(parentItem().arrayLaunched).toEqual({ N: '130' });
});

describe('one child per element of a list in the event', () => {
  const ordered = (files: unknown) => JSON.stringify(eventBridgeEvent('evt-1', { files }));

  test('each child gets its element; strings as they are, other values as JSON', async () => {
    await start({ listPath: '$.detail.files' }, { job: { environment: { SOURCE: '{{hc:eventbridge.source}}' } } });
    r.queue.send(ordered(['a/1.csv', 'a/2.csv', { key: 'b/3.csv', size: 3 }]));
    await r.queue.drain(r.handler);
    expect(r.fake.tasks.map((t) => [envOf(t).HC_ARRAY_INDEX, envOf(t).HC_ARRAY_SIZE, envOf(t).HC_ARRAY_ELEMENT, envOf(t).SOURCE]).sort()).toEqual([
      ['0', '3', 'a/1.csv', 'com.example.orders'],
      ['1', '3', 'a/2.csv', 'com.example.orders'],
      ['2', '3', '{"key":"b/3.csv","size":3}', 'com.example.orders'],
    ]);
  });

  test.each([
    ['an empty list', [], "the list at '$.detail.files' has 0 elements; an array job takes 1 to 10000"],
    ['not a list', 'a/1.csv', "'$.detail.files' is not a list in the eventbridge event (got string)"],
    ['an element too large for the overrides', ['ok', 'x'.repeat(9000)],
      "element 1 of '$.detail.files' is 9000 bytes, and a child's overrides with it would be at least 9520 characters, over RunTask's 8192"],
  ])('%s is dead-lettered with the reason, and no child launches', async (_label, files, reason) => {
    await start({ listPath: '$.detail.files' }, { job: { environment: {} } });
    r.queue.send(ordered(files), { messageId: 'bad' });
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toEqual([]);
    expect(r.deadLetterReasons().bad).toContain(reason);
  });
});

describe('operations between two deliveries', () => {
  test('a failed child redriven after the completion runs once more and publishes no second completion', async () => {
    const tracker = await start({ size: 3 });
    r.queue.send(s3Event('in/three.csv'));
    await r.queue.drain(r.handler);
    const [a, b, c] = r.fake.tasks;
    await tracker.stop(a.taskArn, SUCCESS);
    await tracker.stop(b.taskArn, EXIT1);
    await tracker.stop(c.taskArn, SUCCESS);
    expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', succeeded: 2, failed: 1 })]);
    // Redrive the failed child's message, as the README says: it runs as run 2 of that child.
    const failedJob = r.fake.messages.find((m) => m.queueUrl === r.fake.queueUrl('failed-jobs'))!;
    r.queue.send(failedJob.body);
    r.queue.send(failedJob.body);
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(4);
    expect(envOf(r.fake.tasks[3])).toMatchObject({ HC_ARRAY_INDEX: envOf(b).HC_ARRAY_INDEX, HC_RUN: '2', HC_JOB_ID: envOf(b).HC_JOB_ID });
    await tracker.stop(r.fake.tasks[3].taskArn, SUCCESS);
    expect(completions()).toHaveLength(1);
    expect(r.fake.events.filter((e) => e.DetailType === 'Job Succeeded').map((e) => [e.Detail.arrayIndex, e.Detail.run])).toContainEqual(
      [Number(envOf(b).HC_ARRAY_INDEX), 2]);
  });

  test('a deploy that adds the array option while a single job is in flight dead-letters its redelivery with what to do', async () => {
    r = await Rig.start({ bundle: true, config: { tracking: true }, queue: { msPerSecond: 5 } });
    r.fake.faults.push({ kind: 'capacity' });
    r.queue.send(s3Event('in/single.csv'), { messageId: 'm' });
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    const next = await Rig.restart(r, { bundle: true, config: { tracking: true, array: { size: 4, failParent: false, eventBusName: BUS } } });
    await next.queue.drain(next.handler);
    expect(next.fake.tasks).toEqual([]);
    expect(next.deadLetterReasons().m).toContain('is in the ledger as a single job, and this dispatcher launches array jobs');
  });

  test('a deploy that removes the array option while an array is in flight dead-letters its redelivery with what to do', async () => {
    await start({ size: 60 }, { config: { maxConcurrentTasks: 10 } });
    r.queue.send(s3Event('in/sixty.csv'), { messageId: 'm' });
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    expect(r.fake.tasks).toHaveLength(10);
    const next = await Rig.restart(r, { bundle: true, config: { tracking: true } });
    await next.queue.drain(next.handler);
    expect(next.fake.tasks).toHaveLength(10);
    expect(next.deadLetterReasons().m).toContain('is an array job in the ledger, and this dispatcher launches single jobs');
  });
});

describe('found in review', () => {
  const DISPATCH_ARN = 'arn:aws:sqs:eu-west-1:111122223333:dispatch';

  test('FAIL_PARENT after a child\'s RunTask failed mid-step: running children are not counted as cancelled; the open child is resolved with its token', async () => {
    const tracker = await start({ size: 12, failParent: true });
    r.fake.faults.push({ kind: 'http500', match: (input) => input.tags?.some((t: any) => t.key === 'hc:job-id' && t.value.endsWith('[2]')), times: 10 });
    r.queue.send(s3Event('in/mid.csv'), { messageId: 'm' });
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    expect(r.fake.tasks).toHaveLength(11);
    expect(parentItem().arrayLaunched).toEqual({ N: '2' });
    const child0 = r.fake.tasks.find((t) => envOf(t).HC_ARRAY_INDEX === '0')!;
    await tracker.stop(child0.taskArn, EXIT1);
    r.fake.faults.length = 0;
    for (let i = 0; i < 3; i++) await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    // Child 2's open attempt was tried again with its own token: it launched, and runs to its end.
    expect(r.fake.tasks).toHaveLength(12);
    expect(parentItem()).toMatchObject({ arrayLaunched: { N: '12' }, childrenCancelled: { N: '0' } });
    for (const t of running()) await tracker.stop(t.taskArn, SUCCESS);
    expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', size: 12, succeeded: 11, failed: 1, cancelled: 0 })]);
  });

  test('a completion whose publish failed is published by the next stop event, even one of another run, and by no one twice', async () => {
    const tracker = await start({ size: 2 });
    r.queue.send(s3Event('in/two.csv'));
    await r.queue.drain(r.handler);
    const [a0, a1] = [...r.fake.tasks].sort((x, y) => Number(envOf(x).HC_ARRAY_INDEX) - Number(envOf(y).HC_ARRAY_INDEX));
    await tracker.stop(a0.taskArn, SUCCESS);
    // Child 1's last stop: counted, completion claimed, but its PutEvents fails: the claim is given back, the event redelivered.
    r.fake.failEventsOf = { detailType: 'Array Job Completed', times: 1 };
    const failedStop = r.fake.stopEvent(a1.taskArn, EXIT1);
    expect((await tracker.deliver(failedStop)).batchItemFailures).toHaveLength(1);
    // Meanwhile the failed child is redriven and runs again (run 2): its run 1 event is now stale; run 2's stop publishes.
    r.queue.send(r.fake.messages.find((m) => m.queueUrl === r.fake.queueUrl('failed-jobs'))!.body);
    await r.queue.drain(r.handler);
    await tracker.stop(running()[0].taskArn, SUCCESS);
    expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', succeeded: 1, failed: 1 })]);
    expect((await tracker.deliver(failedStop)).batchItemFailures).toEqual([]);
    expect(completions()).toHaveLength(1);
  });

  test('a claimant that died holding the completion holds it for a minute; then the redelivered stop event publishes it', async () => {
    const tracker = await start({ size: 2 });
    r.queue.send(s3Event('in/two.csv'));
    await r.queue.drain(r.handler);
    const [a0, a1] = [...r.fake.tasks].sort((x, y) => Number(envOf(x).HC_ARRAY_INDEX) - Number(envOf(y).HC_ARRAY_INDEX));
    await tracker.stop(a0.taskArn, SUCCESS);
    // A caller claimed the completion and died before publishing (its claim runs for a minute).
    const item = parentItem();
    item.completionBy = { S: 'dead-caller' };
    item.claimUntil = { N: String(Date.now() + 60_000) };
    const last = r.fake.stopEvent(a1.taskArn, SUCCESS);
    expect((await tracker.deliver(last)).batchItemFailures).toHaveLength(1);
    expect(completions()).toEqual([]);
    parentItem().claimUntil = { N: String(Date.now() - 1) };
    expect((await tracker.deliver(last)).batchItemFailures).toEqual([]);
    expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'SUCCEEDED', succeeded: 2 })]);
  });

  test('FAIL_PARENT under the cap: a child whose RunTask answer was lost, taken over and deferred, is not cancelled while its task runs', async () => {
    const tracker = await start({ size: 3, failParent: true }, { config: { maxConcurrentTasks: 3 } });
    const childOf = (i: number) => r.fake.dynamo.items('jobs').find((x) => x.jobId?.S?.endsWith(`[${i}]`))!;
    r.fake.faults.push({ kind: 'drop-after', match: (input) => input.tags?.some((t: any) => t.key === 'hc:job-id' && t.value.endsWith('[2]')), times: 20 });
    r.queue.send(s3Event('in/x.csv'), { messageId: 'm' });
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    r.fake.faults.length = 0;
    const child2 = r.fake.tasks.find((t) => envOf(t).HC_ARRAY_INDEX === '2')!;
    // The first delivery's lease ends; the next takes child 2's attempt over, finds no room (3 running) and defers it.
    childOf(2).leaseUntil = { N: '0' };
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    expect(childOf(2).notCalled).toBeUndefined();
    await tracker.stop(r.fake.tasks.find((t) => envOf(t).HC_ARRAY_INDEX === '0')!.taskArn, EXIT1);
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    await tracker.stop(r.fake.tasks.find((t) => envOf(t).HC_ARRAY_INDEX === '1')!.taskArn, SUCCESS);
    expect(completions()).toEqual([]);
    expect(parentItem().childrenCancelled).toEqual({ N: '0' });
    await tracker.stop(child2.taskArn, SUCCESS);
    expect(completions().map((e) => e.Detail)).toEqual([expect.objectContaining({ status: 'FAILED', succeeded: 2, failed: 1, cancelled: 0 })]);
  });

  test('a deploy that changes the number of children while an array is in flight dead-letters its redelivery', async () => {
    await start({ size: 10 }, { config: { maxConcurrentTasks: 4 } });
    r.queue.send(s3Event('in/ten.csv'), { messageId: 'm' });
    await r.dispatcher().handle({ Records: [r.queue.peek('m')] });
    const resized = { size: 20, failParent: false, eventBusName: BUS };
    const next = await Rig.restart(r, { bundle: true, config: { tracking: true, maxConcurrentTasks: 40, array: resized } });
    await next.queue.drain(next.handler);
    expect(next.fake.tasks).toHaveLength(4);
    expect(new Set(next.fake.tasks.map((t) => envOf(t).HC_ARRAY_SIZE))).toEqual(new Set(['10']));
    expect(next.deadLetterReasons().m).toContain('was started with 10 children and is now given 20');
  });

  test('when the running tasks cannot be counted, an array under the cap launches nothing and is retried', async () => {
    await start({ size: 6 }, { config: { maxConcurrentTasks: 3 } });
    r.fake.failListTasks = 20;
    r.queue.send(s3Event('in/six.csv'), { messageId: 'm' });
    expect(await r.dispatcher().handle({ Records: [r.queue.peek('m')] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm' }] });
    expect(r.fake.tasks).toEqual([]);
  });

  test('an array that keeps launching is carried over past 24 hours from its first enqueue; one stalled for 24 hours is dead-lettered', async () => {
    await start({ size: 6 }, { config: { maxConcurrentTasks: 2 } });
    const old = Date.now() - 25 * 3600_000;
    const record = (body: string) => ({
      messageId: 'carried',
      body,
      eventSourceARN: DISPATCH_ARN,
      attributes: { ApproximateReceiveCount: '5', SentTimestamp: String(old) },
      messageAttributes: {},
    });
    // A record enqueued 25 hours ago, on its last receive, launching its first children now.
    const body = s3Event('in/old.csv');
    expect(await r.dispatcher().handle({ Records: [record(body)] })).toEqual({ batchItemFailures: [] });
    expect(r.fake.tasks).toHaveLength(2);
    expect(r.deadLetters).toEqual([]);
    const carried = r.fake.messages.filter((m) => m.queueUrl === r.config.dispatchQueueUrl);
    expect(carried).toHaveLength(1);
    // No progress for 25 hours: the next last receive dead-letters it, with the reason.
    const item = r.fake.dynamo.items('jobs').find((i) => i.arraySize)!;
    item.arrayProgressAt = { N: String(old) };
    expect(await r.dispatcher().handle({ Records: [record(carried[0].body)] })).toEqual({ batchItemFailures: [] });
    expect(r.deadLetterReasons().carried).toContain('deferred for more than 24 hours since it was last moved on');
  });
});
