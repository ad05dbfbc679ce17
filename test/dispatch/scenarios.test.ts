import { createHash } from 'crypto';
import { ENVELOPE_KEY } from '../../src/contract/job';
import { DLQ_ATTR_MESSAGE_ID, DLQ_ATTR_SOURCE } from '../../src/contract/names';
import { TokenModel } from '../harness/fake-aws';
import { Rig, RigOptions } from '../harness/rig';
import { shippedTracker } from '../harness/shipped-tracker';
import { eventBridgeEvent, s3Record, USER_QUEUE } from './runtime/fixtures';

/**
 * The operations users perform between two deliveries — deploys, redrives,
 * duplicates, timeouts — end to end through the shipped bundles (dispatcher
 * and tracker) against the fakes, in both readings of what ECS does with a
 * client token whose request started no task: remembered, or forgotten.
 * Each scenario names the defect it guards against (issue "exactly-once
 * that does not rest on undocumented ECS behaviour").
 */
const MODELS: TokenModel[] = ['remembered', 'forgotten'];
const SPOT = { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] };
const SOURCE_QUEUE = { arn: USER_QUEUE, dispatchQueue: false };
/** A job mapping SqsSource messages. */
const SQS_JOB = { environment: { BODY: '{{hc:sqs.body}}' } };

let rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  rigs = [];
});

async function rig(model: TokenModel, options: RigOptions = {}): Promise<Rig> {
  // Invocations end (1 s) before their records are visible again (30 simulated s x 20 ms), as in SQS.
  const r = await Rig.start({
    deadlineMs: 1_000, ...options, bundle: true, fake: { ...options.fake, tokenModel: model }, queue: { msPerSecond: 20, ...options.queue },
  });
  rigs.push(r);
  return r;
}

/** A second deployment of the same dispatcher against the same fakes (same ledger, queues, ECS): the same rig, new config. */
async function redeploy(r: Rig, change: RigOptions): Promise<Rig> {
  const next = await Rig.restart(r, { ...change, bundle: true });
  rigs.push(next);
  return next;
}

const s3Body = (key: string, extra: Record<string, unknown> = {}) => JSON.stringify({ Records: [{ ...s3Record(key), ...extra }] });
const jobIdOf = (key: string) => createHash('sha256').update(`s3|input-bucket|${key}||0065F1A2B3C4D5E6F7`).digest('hex').slice(0, 32);
const tasksOf = (r: Rig, key: string) => r.fake.tasks.filter((t) => t.jobId === jobIdOf(key));

/** The shipped tracker, wired to the rig's dispatcher (its retries go to the rig's queue). */
const tracker = (r: Rig, retryAttempts = 2) => shippedTracker(r, { retryAttempts });
const SPOT_INTERRUPTION = { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' };
const FAILED_EXIT = { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 1 };

describe.each(MODELS)('ECS token model: failed tokens %s', (model) => {
  test('D1: capacity failure, then a deploy changes the task definition: the redelivery launches the job once, with the new revision', async () => {
    const r = await rig(model);
    r.fake.faults.push({ kind: 'capacity' });
    r.queue.send(s3Body('a.txt'), { messageId: 'm-a' });
    expect(await r.dispatcher().handle({ Records: [r.queue.peek('m-a')] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    const next = await redeploy(r, { job: { taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:4' } });
    await next.queue.drain(next.handler);
    expect(tasksOf(next, 'a.txt')).toHaveLength(1);
    expect(next.fake.runTaskCalls().map((c) => c.taskDefinition)).toEqual([
      'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:3', 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:4',
    ]);
    expect(next.deadLetters).toEqual([]);
  });

  test('D1: the answer to a launch is lost, then a deploy changes the parameters: the replay conflicts, resourceIds name the task, nothing launches twice', async () => {
    const r = await rig(model);
    r.fake.faults.push({ kind: 'drop-after', times: 4 }); // the task starts; every answer (and the SDK's retries) is lost
    r.queue.send(s3Body('a.txt'), { messageId: 'm-a' });
    await r.dispatcher().handle({ Records: [r.queue.peek('m-a')] });
    expect(r.fake.tasks).toHaveLength(1);
    const next = await redeploy(r, { job: { taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:4' } });
    await next.queue.drain(next.handler);
    expect(next.fake.tasks).toHaveLength(1);
    expect(next.fake.stats.conflicts).toBeGreaterThanOrEqual(1);
    expect(next.deadLetters).toEqual([]);
  });

  test('D1 + tracking: a dead-lettered record redriven (a new SentTimestamp) launches once', async () => {
    const r = await rig(model, { config: { tracking: true, maxReceiveCount: 2 } });
    r.fake.faults.push({ kind: 'capacity', times: 2 });
    r.queue.send(s3Body('a.txt'), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.deadLetters).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 5)); // the copy gets a later SentTimestamp
    r.redriveDeadLetters();
    await r.queue.drain(r.handler);
    expect(tasksOf(r, 'a.txt')).toHaveLength(1);
    expect(r.fake.tasks[0].overrides.containerOverrides[0].environment).toEqual(expect.arrayContaining([{ name: 'HC_ATTEMPT', value: '3' }]));
  });

  test('D2: tracking off, capacity failures until the DLQ; capacity is back and the redrive launches the job once', async () => {
    const r = await rig(model, { config: { maxReceiveCount: 3 } });
    r.fake.faults.push({ kind: 'capacity', times: 3 });
    r.queue.send(s3Body('a.txt'), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.queue.redriven).toEqual([]); // nothing reached the DLQ without a reason
    expect(Object.values(r.deadLetterReasons())[0]).toMatch(/launch still failing after 3 receives: .*attempt 3 \(primary\): Capacity is unavailable/);
    r.redriveDeadLetters();
    await r.queue.drain(r.handler);
    expect(tasksOf(r, 'a.txt')).toMatchObject([{ attempt: 4 }]);
    expect(r.deadLetters).toHaveLength(1);
  });

  test('D2 for EventBridge: an event dead-lettered after capacity failures and redriven launches once, under its event id', async () => {
    const r = await rig(model, { config: { maxReceiveCount: 2 }, job: { environment: { DETAIL: '{{hc:eventbridge.detail}}' } } });
    r.fake.faults.push({ kind: 'capacity', times: 2 });
    r.queue.send(JSON.stringify(eventBridgeEvent('evt-1', { orderId: 'o-1' })), { messageId: 'm-e' });
    await r.queue.drain(r.handler);
    expect(r.deadLetterReasons()['m-e']).toMatch(/^launch still failing after 2 receives: job evt-1: RunTask started no task: attempt 2/);
    r.redriveDeadLetters();
    r.redriveDeadLetters(); // a second move of the same messages moves nothing new
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toMatchObject([{ jobId: 'evt-1', attempt: 3 }]);
    expect(r.queue.redriven).toEqual([]);
  });

  test('D3: two messages with one job id and different content: one task, and the document it reads keeps the first content', async () => {
    const r = await rig(model, { config: { queues: [{ arn: r0Dispatch(), dispatchQueue: true }, { ...SOURCE_QUEUE, jobId: '{{hc:path:$.orderId}}' }] }, job: { environment: { BODY: '{{hc:sqs.body}}' } } });
    const first = JSON.stringify({ orderId: 'o-1', note: 'a'.repeat(9000) });
    const second = JSON.stringify({ orderId: 'o-1', note: 'b'.repeat(9000) });
    await r.dispatcher().handle({ Records: [userMessage('q-1', first)] });
    await r.dispatcher().handle({ Records: [userMessage('q-2', second)] });
    expect(r.fake.tasks).toHaveLength(1);
    const uri = r.fake.tasks[0].overrides.containerOverrides[0].environment.find((e: any) => e.name === 'HC_PAYLOAD_URI').value;
    const document = JSON.parse(r.fake.objects.get(`/claims/${uri.slice('s3://claims/'.length)}`)!);
    expect(document.environment.BODY).toBe(first);
  });

  test('D4: two tagging events of one object version (no sequencer) are two jobs; each delivered twice still runs once', async () => {
    const r = await rig(model);
    const tagging = (requestId: string, time: string) => s3Body('a.txt', {
      eventName: 'ObjectTagging:Put',
      eventTime: time,
      responseElements: { 'x-amz-request-id': requestId },
      s3: { ...s3Record('a.txt').s3, object: { key: 'a.txt', versionId: 'v1', eTag: 'e' } },
    });
    for (const body of [tagging('R1', '2026-11-27T10:00:00.000Z'), tagging('R2', '2026-11-27T10:01:00.000Z')]) {
      r.queue.send(body);
      r.queue.send(body);
    }
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(2);
    expect(new Set(r.fake.tasks.map((t) => t.jobId)).size).toBe(2);
  });

  test('D5: maxConcurrentTasks 1 and a message of two records: one launches, the other follows when the first stops; nothing dead-lettered', async () => {
    const r = await rig(model, { config: { maxConcurrentTasks: 1, maxReceiveCount: 3 } });
    r.queue.send(JSON.stringify({ Records: [s3Record('a.txt'), s3Record('b.txt')] }), { messageId: 'm-ab' });
    const drained = r.queue.drain(r.handler, { concurrency: 1, timeoutMs: 30_000 });
    const stopper = setInterval(() => r.fake.tasks.filter((t) => !t.stopped).forEach((t) => r.fake.stopTask(t.taskArn)), 20);
    await drained.finally(() => clearInterval(stopper));
    expect(r.fake.tasks.map((t) => t.jobId).sort()).toEqual([jobIdOf('a.txt'), jobIdOf('b.txt')].sort());
    expect(r.deadLetters).toEqual([]);
  });

  test('D7: an SqsSource message dead-lettered by the dispatcher and moved back to the dispatch queue launches as that message', async () => {
    const queues = [{ arn: r0Dispatch(), dispatchQueue: true }, SOURCE_QUEUE];
    const r = await rig(model, { config: { queues, maxReceiveCount: 2 }, job: SQS_JOB });
    r.fake.faults.push({ kind: 'capacity', times: 2 });
    await r.dispatcher().handle({ Records: [userMessage('order-1', '{"orderId":"o-1"}', 1)] });
    await r.dispatcher().handle({ Records: [userMessage('order-1', '{"orderId":"o-1"}', 2)] });
    expect(r.deadLetters.map((m) => [m.body, m.attributes[DLQ_ATTR_SOURCE], m.attributes[DLQ_ATTR_MESSAGE_ID]])).toEqual([['{"orderId":"o-1"}', USER_QUEUE, 'order-1']]);
    r.redriveDeadLetters(); // a message move task keeps the attributes
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toMatchObject([{ jobId: 'order-1', attempt: 3 }]);
  });

  test('T1: PutEvents fails after the failed-jobs message was sent: the retry sends nothing twice', async () => {
    const r = await rig(model, { config: { tracking: true } });
    r.queue.send(s3Body('a.txt'));
    await r.queue.drain(r.handler);
    const t = tracker(r, 0);
    r.fake.failPutEvents = 1;
    const first = await t.stop(r.fake.tasks[0].taskArn, FAILED_EXIT);
    expect(first.batchItemFailures).toHaveLength(1);
    const event = r.fake.lastStopEvent!;
    expect(await t.handle({ Records: [{ messageId: 'again', body: JSON.stringify(event), eventSourceARN: 'x' }] })).toEqual({ batchItemFailures: [] });
    expect(r.fake.messages.filter((m) => m.queueUrl === r.fake.queueUrl('failed-jobs'))).toHaveLength(1);
    expect(r.fake.events.map((e) => e.DetailType)).toEqual(['Job Failed']);
  });

  test('U1: Spot found no capacity, on-demand launched; the record comes back (another job of it failed): no second task', async () => {
    const r = await rig(model, { job: { ...SPOT, fallbackToOnDemand: true } });
    r.fake.faults.push({ kind: 'capacity', match: (i) => !!i.capacityProviderStrategy });
    r.fake.faults.push({ kind: 'http500', match: (i) => i.tags?.[0]?.value === jobIdOf('b.txt'), times: 8 });
    const body = JSON.stringify({ Records: [s3Record('a.txt'), s3Record('b.txt')] });
    r.queue.send(body, { messageId: 'm-ab' });
    await r.queue.drain(r.handler, { concurrency: 1 });
    expect(tasksOf(r, 'a.txt')).toMatchObject([{ attempt: 2, capacity: 'FARGATE' }]);
    expect(tasksOf(r, 'b.txt')).toHaveLength(1);
  });

  test('U: a Lambda that times out mid-batch (its calls abandoned at the deadline) and a redelivery: one task', async () => {
    const r = await rig(model);
    r.fake.faults.push({ kind: 'slow', delayMs: 2_000 });
    r.queue.send(s3Body('a.txt'), { messageId: 'm-a' });
    const started = Date.now();
    const res = await r.dispatcher().handle({ Records: [r.queue.peek('m-a')] }, { deadline: Date.now() + 1_000 });
    expect(Date.now() - started).toBeLessThan(1_800);
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    await new Promise((res2) => setTimeout(res2, 2_000)); // the abandoned call still reaches ECS and launches
    await r.queue.drain(r.handler);
    expect(tasksOf(r, 'a.txt')).toHaveLength(1);
  });

  test('U: two deliveries of one record at the same time converge on one reservation and one task', async () => {
    const r = await rig(model, { fake: { runTaskLatencyMs: 30 } });
    const record = { ...r.queue.peek(r.queue.send(s3Body('a.txt'))) };
    await Promise.all([r.dispatcher().handle({ Records: [record] }), r.handler({ Records: [record] })]);
    expect(r.fake.tasks).toHaveLength(1);
  });

  test('U: an SqsSource queue with a lower maxReceiveCount: the record is dead-lettered with its reason on that queue\'s last receive', async () => {
    const queues = [{ arn: r0Dispatch(), dispatchQueue: true }, { ...SOURCE_QUEUE, maxReceiveCount: 2 }];
    const r = await rig(model, { config: { queues, maxReceiveCount: 5 }, job: SQS_JOB });
    r.fake.faults.push({ kind: 'capacity', times: 10 });
    expect(await r.dispatcher().handle({ Records: [userMessage('o-1', '{}', 2)] })).toEqual({ batchItemFailures: [] });
    expect(r.deadLetterReasons()['o-1']).toMatch(/^launch still failing after 2 receives/);
  });

  test('U: a carried-over SqsSource message goes back as itself (body once, its source and message id as attributes)', async () => {
    const queues = [{ arn: r0Dispatch(), dispatchQueue: true }, SOURCE_QUEUE];
    const r = await rig(model, { config: { queues, maxConcurrentTasks: 1, maxReceiveCount: 2 }, job: SQS_JOB });
    await r.dispatcher().handle({ Records: [userMessage('first', '{"n":1}', 1)] });
    await r.dispatcher().handle({ Records: [userMessage('second', '{"n":2}', 2)] });
    const carried = r.fake.messages.filter((m) => m.queueUrl === r.config.dispatchQueueUrl);
    expect(carried).toMatchObject([{ body: '{"n":2}', attributes: { [DLQ_ATTR_SOURCE]: USER_QUEUE, [DLQ_ATTR_MESSAGE_ID]: 'second' }, delaySeconds: 60 }]);
    r.fake.tasks.forEach((t) => r.fake.stopTask(t.taskArn));
    await r.queue.drain(r.handler);
    expect(r.fake.tasks.map((t) => t.jobId).sort()).toEqual(['first', 'second']);
  });

  test('U: a record deferred for more than 24 hours is dead-lettered with the reason, not carried over again', async () => {
    const r = await rig(model, { config: { maxConcurrentTasks: 1, maxReceiveCount: 1 } });
    await r.dispatcher().handle({ Records: [{ ...userMessage('x', '{}'), eventSourceARN: r.config.queues[0].arn, body: s3Body('busy.txt') }] });
    const old = Date.now() - 25 * 3600 * 1000;
    const envelope = { [ENVELOPE_KEY]: { version: 1, jobs: [{ id: 'late', source: 's3', fields: { 's3.key': 'late.txt', 's3.uri': 's3://b/late.txt' }, event: {} }], attempt: 1, enqueuedAt: old } };
    await r.dispatcher().handle({ Records: [{ ...userMessage('late-msg', JSON.stringify(envelope)), eventSourceARN: r.config.queues[0].arn }] });
    expect(r.deadLetterReasons()['late-msg']).toMatch(/deferred for more than 24 hours since it was enqueued: not carried over again$/);
    expect(r.fake.messages.filter((m) => m.queueUrl === r.config.dispatchQueueUrl)).toEqual([]);
  });

  test('U: two disagreeing stop events of one task (the first without an exit code) give one outcome', async () => {
    const r = await rig(model, { config: { tracking: true } });
    r.queue.send(s3Body('a.txt'));
    await r.queue.drain(r.handler);
    const t = tracker(r);
    const task = r.fake.tasks[0].taskArn;
    await t.stop(task, { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    await t.stop(task, { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0 });
    expect(r.fake.events.map((e) => e.DetailType)).toEqual(['Job Failed']);
    expect(r.fake.messages.filter((m) => m.queueUrl === r.fake.queueUrl('failed-jobs'))).toHaveLength(1);
  });

  test('a job interrupted on Spot, retried by the tracker; both stop events delivered twice: exactly two tasks', async () => {
    const r = await rig(model, { config: { tracking: true } });
    r.queue.send(s3Body('a.txt'));
    await r.queue.drain(r.handler);
    const t = tracker(r);
    const first = r.fake.tasks[0].taskArn;
    const event = r.fake.stopEvent(first, SPOT_INTERRUPTION);
    for (let i = 0; i < 2; i++) await t.handle({ Records: [{ messageId: `e${i}`, body: JSON.stringify(event), eventSourceARN: 'x' }] });
    await r.queue.drain(r.handler);
    const second = r.fake.tasks[1].taskArn;
    const done = r.fake.stopEvent(second, { stopCode: 'EssentialContainerExited', stoppedReason: 'done', exitCode: 0 });
    for (let i = 0; i < 2; i++) await t.handle({ Records: [{ messageId: `d${i}`, body: JSON.stringify(done), eventSourceARN: 'x' }] });
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(2);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.run])).toEqual([['Job Succeeded', 2]]);
  });

  /** The dispatch queue's ARN (the fixtures'). */
  function r0Dispatch(): string {
    return 'arn:aws:sqs:eu-west-1:111122223333:dispatch';
  }
});

/** A message of the user's SqsSource queue. */
function userMessage(messageId: string, body: string, receiveCount = 1) {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    eventSource: 'aws:sqs',
    eventSourceARN: USER_QUEUE,
    awsRegion: 'eu-west-1',
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: String(Date.now()) },
    messageAttributes: {},
  };
}
