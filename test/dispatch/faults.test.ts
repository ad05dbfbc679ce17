import { createHash } from 'crypto';
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { ENVELOPE_KEY, JobSourceType } from '../../src/contract/job';
import { PAYLOAD_URI_ENV } from '../../src/contract/names';
import { clientToken } from '../../src/dispatch/runtime/fargate-launcher';
import { CAPACITY_REASON, FakeAws } from '../harness/fake-aws';
import { Rig, RigOptions } from '../harness/rig';
import { DISPATCH_QUEUE, fargateTarget, s3Message, s3Record, sqsRecord, USER_QUEUE } from './runtime/fixtures';

/**
 * The dispatcher's real SDK clients against the fake ECS/SQS/S3 endpoint,
 * one fault at a time: exact batchItemFailures, exact dead letters with
 * their reasons, and exactly one task per job.
 */
let rig: Rig;
async function start(options: RigOptions = {}): Promise<Rig> {
  rig = await Rig.start(options);
  return rig;
}
afterEach(async () => rig?.close());

const keyOf = (body: any) => body.overrides?.containerOverrides?.[0]?.environment?.find((e: any) => e.name === 'KEY')?.value;
const forKey = (key: string) => (input: any) => keyOf(input) === key;
const SPOT = { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] };
const tokensOf = (calls: any[]) => calls.map((c) => c.clientToken);
/** The job id the dispatcher derives for an S3 record of key `key` (default fixture bucket and sequencer). */
const s3JobId = (key: string) => createHash('sha256').update(`s3|input-bucket|${key}||0065F1A2B3C4D5E6F7`).digest('hex').slice(0, 32);
const token = (key: string, attempt: number) => clientToken('count', s3JobId(key), attempt);

function expectOneTaskPerJob(keys: string[]) {
  const launches = rig.fake.launchesByJob();
  expect(Object.fromEntries(keys.map((k) => [k, launches.get(s3JobId(k)) ?? 0]))).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
  expect(rig.fake.tasks).toHaveLength(keys.length);
}

describe('SDK-level faults are absorbed with the same token', () => {
  test('an HTTP 500 is retried by the SDK: one task, two calls with one token', async () => {
    await start();
    rig.fake.faults.push({ kind: 'http500', match: forKey('a.txt') });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')]), s3Message('m-b', [s3Record('b.txt')])] });
    expect(res).toEqual({ batchItemFailures: [] });
    expectOneTaskPerJob(['a.txt', 'b.txt']);
    expect(tokensOf(rig.fake.runTaskCalls().filter(forKey('a.txt')))).toEqual([token('a.txt', 1), token('a.txt', 1)]);
  });

  test('a connection dropped after the launch: the retry gets the original task back, not a second one', async () => {
    await start();
    rig.fake.faults.push({ kind: 'drop-after', match: forKey('a.txt') });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(res).toEqual({ batchItemFailures: [] });
    expectOneTaskPerJob(['a.txt']);
    expect(rig.fake.stats).toMatchObject({ runTask: 2, launched: 1, replayed: 1, dropped: 1 });
  });

  test('a connection dropped before anything happened is retried and launches once', async () => {
    await start();
    rig.fake.faults.push({ kind: 'drop-before', match: forKey('a.txt') });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(rig.fake.stats).toMatchObject({ runTask: 2, launched: 1, replayed: 0, dropped: 1 });
  });

  test('a response slower than the request timeout: the retry and the slow original resolve to one task', async () => {
    await start({ requestTimeoutMs: 200 });
    rig.fake.faults.push({ kind: 'slow', delayMs: 600, match: forKey('a.txt') });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(res).toEqual({ batchItemFailures: [] });
    await new Promise((r) => setTimeout(r, 700)); // let the slow original finish
    expectOneTaskPerJob(['a.txt']);
    expect(rig.fake.stats.replayed).toBe(1);
  });

  // Standard retry mode here: adaptive mode's client-side limiter (the handler's
  // setting) waits seconds after repeated throttles, which only slows the test.
  test('throttling that outlasts the SDK retries is retried within the batch while it has time: one task, no redelivery', async () => {
    await start({ retryMode: 'standard' });
    rig.fake.faults.push({ kind: 'throttle', match: forKey('a.txt'), times: 6 });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] }, { deadline: Date.now() + 15_000 });
    expect(res).toEqual({ batchItemFailures: [] });
    expectOneTaskPerJob(['a.txt']);
    expect(rig.fake.stats.throttled).toBe(6);
    expect(new Set(tokensOf(rig.fake.runTaskCalls()))).toEqual(new Set([token('a.txt', 1)]));
  });

  test('throttling that outlasts the batch\'s time returns exactly that record; the redelivery launches it once', async () => {
    await start({ retryMode: 'standard' });
    rig.fake.faults.push({ kind: 'throttle', match: forKey('a.txt'), times: 4 });
    const first = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')]), s3Message('m-b', [s3Record('b.txt')])] }, { deadline: Date.now() });
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    // The SDK's throttling retries are cut at the batch deadline: the call is abandoned, its attempt stays open.
    expect(rig.logs.find((l) => l.message === 'launch failed, will retry')).toMatchObject({
      messageId: 'm-a', receiveCount: 1, reason: expect.stringMatching(/^job [0-9a-f]{32}: (ThrottlingException: Rate exceeded|AbortError: .*aborted.*)$/),
    });
    const second = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')], 2)] });
    expect(second).toEqual({ batchItemFailures: [] });
    expectOneTaskPerJob(['a.txt', 'b.txt']);
    expect(rig.fake.stats.throttled).toBe(4);
  });
});

describe('capacity failures and the token chain', () => {
  test('Spot without capacity falls back to on-demand in the same delivery, with the next token', async () => {
    await start({ job: { ...SPOT, fallbackToOnDemand: true } });
    rig.fake.faults.push({ kind: 'capacity', match: (i) => !!i.capacityProviderStrategy });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(res).toEqual({ batchItemFailures: [] });
    const calls = rig.fake.runTaskCalls();
    expect(calls.map((c) => [c.clientToken, c.launchType ?? 'strategy', c.tags[2].value])).toEqual([
      [token('a.txt', 1), 'strategy', '1'],
      [token('a.txt', 2), 'FARGATE', '2'],
    ]);
    expect(rig.fake.tasks).toMatchObject([{ jobId: s3JobId('a.txt'), attempt: 2, capacity: 'FARGATE' }]);
  });

  test('a redelivered job that launched on attempt 2 finds its task in the ledger and calls RunTask no more', async () => {
    await start({ job: { ...SPOT, fallbackToOnDemand: true } });
    rig.fake.faults.push({ kind: 'capacity', match: (i) => !!i.capacityProviderStrategy });
    await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    // SQS delivers the same message again (at-least-once)
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')], 2)] });
    expect(res).toEqual({ batchItemFailures: [] });
    expectOneTaskPerJob(['a.txt']);
    expect(tokensOf(rig.fake.runTaskCalls())).toEqual([token('a.txt', 1), token('a.txt', 2)]);
    expect(rig.fake.stats).toMatchObject({ launched: 1, replayed: 0 });
    expect(rig.logs.filter((l) => l.message === 'job already launched')).toHaveLength(1);
  });

  test('without fallback a capacity failure is retried by redelivery, which takes attempt 2 (the ledger knows attempt 1 started nothing)', async () => {
    await start();
    rig.fake.faults.push({ kind: 'capacity', match: forKey('a.txt') });
    const first = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    expect(rig.logs.find((l) => l.message === 'launch failed, will retry')!.reason)
      .toBe(`job ${s3JobId('a.txt')}: RunTask started no task: attempt 1 (primary): ${CAPACITY_REASON}`);
    const second = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')], 2)] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(tokensOf(rig.fake.runTaskCalls())).toEqual([token('a.txt', 1), token('a.txt', 2)]);
    expect(rig.fake.tasks).toMatchObject([{ attempt: 2 }]);
  });

  test('capacity that never comes back ends in the DLQ with the last attempt\'s reason after maxReceiveCount receives', async () => {
    await start({ config: { maxReceiveCount: 3 } });
    rig.fake.faults.push({ kind: 'capacity', times: 1000 });
    rig.queue.send(JSON.stringify({ Records: [s3Record('a.txt')] }), { messageId: 'm-a' });
    await rig.queue.drain(rig.handler, { concurrency: 1 });
    expect(rig.deadLetterReasons()).toEqual({
      'm-a': `launch still failing after 3 receives: job ${s3JobId('a.txt')}: RunTask started no task: attempt 3 (primary): ${CAPACITY_REASON}`,
    });
    expect(rig.queue.redriven).toEqual([]);
    // one new attempt per receive: the ledger knows the earlier ones started nothing
    expect(rig.fake.stats.runTask).toBe(3);
    expect(rig.fake.tasks).toEqual([]);
  });

  test('a job that ECS says launched with other parameters (ConflictException) is not launched again', async () => {
    await start();
    await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    const redeployed = await Rig.start({ job: { taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:4' } });
    try {
      // same fake endpoint state is what matters: replay through the first rig's fake
      const ecs = new ECSClient({ region: 'eu-west-1', endpoint: rig.fake.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const input = redeployed.launcher().runTaskInput({ id: s3JobId('a.txt'), source: JobSourceType.S3, fields: { 's3.key': 'a.txt', 's3.uri': 's3://input-bucket/a.txt' }, event: {} }, 1);
      await expect(ecs.send(new RunTaskCommand(input))).rejects.toMatchObject({ name: 'ConflictException' });
    } finally {
      await redeployed.close();
    }
    expect(rig.fake.stats.conflicts).toBe(1);
    expect(rig.fake.tasks).toHaveLength(1);
  });
});

describe('through the queue', () => {
  test('every message delivered twice at once, plus malformed ones: one task per job, each malformed record dead-lettered with its reason', async () => {
    await start({ queue: { duplicateRate: 1, msPerSecond: 5 } });
    const keys = Array.from({ length: 30 }, (_, i) => `dup/${i}.txt`);
    keys.forEach((k) => rig.queue.send(JSON.stringify({ Records: [s3Record(k)] }), { messageId: `m-${k}` }));
    rig.queue.send('{"Records": [', { messageId: 'truncated' });
    rig.queue.send(JSON.stringify({ Records: [{ s3: { bucket: { name: 'b' } } }] }), { messageId: 'no-key' });
    const result = await rig.queue.drain(rig.handler, { batchSize: 10, concurrency: 5 });
    expect(result.duplicatesDelivered).toBeGreaterThanOrEqual(30);
    expectOneTaskPerJob(keys);
    // a duplicate delivery of a malformed record dead-letters it again: same reason each time
    expect(rig.deadLetterReasons()).toEqual({
      'truncated': 'message body is not JSON (13 characters, starts with "{\\"Records\\": [")',
      'no-key': 's3 notification record 0 has no object key',
    });
    expect(rig.queue.redriven).toEqual([]);
    expect(rig.queue.depth).toBe(0);
  });
});

describe('maxConcurrentTasks', () => {
  async function withRunning(cap: number, running: number) {
    await start({ config: { maxConcurrentTasks: cap } });
    for (let i = 0; i < running; i++) {
      await rig.dispatcher().handle({ Records: [s3Message(`pre-${i}`, [s3Record(`pre-${i}.txt`)])] });
    }
    rig.fake.calls.length = 0;
    rig.logs.length = 0;
  }

  test('with 4 of 6 tasks running, a batch of 5 launches 2 and leaves exactly the other 3 in the queue', async () => {
    await withRunning(6, 4);
    const records = ['a', 'b', 'c', 'd', 'e'].map((k) => s3Message(`m-${k}`, [s3Record(`${k}.txt`)]));
    const res = await rig.dispatcher().handle({ Records: records });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-c' }, { itemIdentifier: 'm-d' }, { itemIdentifier: 'm-e' }] });
    expect(rig.fake.runTaskCalls().map(keyOf)).toEqual(['a.txt', 'b.txt']);
    expect(rig.fake.calls[0]).toEqual({
      target: 'AmazonEC2ContainerServiceV20141113.ListTasks',
      body: { cluster: fargateTarget(rig.config).job.cluster, startedBy: rig.config.startedBy, desiredStatus: 'RUNNING', maxResults: 100 },
    });
    expect(rig.logs.find((l) => l.message === 'batch done')).toEqual(expect.objectContaining({ launched: 2, deferred: 3 }));
  });

  test('stopped tasks free room: the deferred records launch on their next delivery', async () => {
    await withRunning(2, 2);
    const first = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    rig.fake.tasks.forEach((t) => rig.fake.stopTask(t.taskArn));
    const second = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')], 2)] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(rig.fake.launchesByJob().get(s3JobId('a.txt'))).toBe(1);
  });

  test('a record deferred on its last receive is carried over into the dispatch queue as its jobs, and launches from there once', async () => {
    await withRunning(1, 1);
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')], 5)] });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(rig.deadLetters).toEqual([]);
    const carried = rig.fake.messages.filter((m) => m.queueUrl === rig.config.dispatchQueueUrl);
    expect(carried).toHaveLength(1);
    expect(carried[0].delaySeconds).toBe(60);
    const envelope = JSON.parse(carried[0].body)[ENVELOPE_KEY];
    expect(envelope).toMatchObject({ version: 1, attempt: 1, reason: 'maxConcurrentTasks (1) reached: 1 of 1 jobs left in the queue' });
    expect(envelope.jobs.map((j: any) => [j.id, j.source, j.fields['s3.key']])).toEqual([[s3JobId('a.txt'), 's3', 'a.txt']]);
    rig.fake.tasks.forEach((t) => rig.fake.stopTask(t.taskArn));
    await rig.queue.drain(rig.handler);
    expect(rig.fake.launchesByJob().get(s3JobId('a.txt'))).toBe(1);
    expect(rig.fake.tasks.find((t) => t.jobId === s3JobId('a.txt'))!.clientToken).toBe(token('a.txt', 1));
  });

  test('when the running tasks cannot be counted, the batch is retried with that reason', async () => {
    await start({ config: { maxConcurrentTasks: 5 } });
    const ecs = rig.dispatcher() as any;
    ecs.clients.ecs.middlewareStack.add((next: any, context: any) => async (args: any) => {
      if (context.commandName === 'ListTasksCommand') throw Object.assign(new Error('User is not authorized to perform: ecs:ListTasks'), { name: 'AccessDeniedException' });
      return next(args);
    }, { step: 'initialize' });
    const res = await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    expect(rig.logs.find((l) => l.message === 'launch failed, will retry')!.reason)
      .toBe('cannot count the running tasks for maxConcurrentTasks: AccessDeniedException: User is not authorized to perform: ecs:ListTasks');
    expect(rig.fake.runTaskCalls()).toEqual([]);
  });
});

describe('claim check', () => {
  const bigBody = JSON.stringify({ order: 'o-1', lines: Array.from({ length: 400 }, (_, i) => ({ sku: `sku-${i}`, qty: i })) });
  const sqsJob = { environment: { BODY: '{{hc:sqs.body}}', ORDER: '{{hc:path:$.order}}' } };

  test('mapped values over the RunTask limit move to an S3 document; the task gets its URI and the values that fit', async () => {
    await start({ job: sqsJob });
    expect(Buffer.byteLength(bigBody)).toBeGreaterThan(8192);
    const res = await rig.dispatcher().handle({ Records: [sqsRecord('m-big', bigBody, USER_QUEUE)] });
    expect(res).toEqual({ batchItemFailures: [] });
    // content-addressed: the job (family, id) and the document's content
    const document = JSON.stringify({ version: 1, jobId: 'm-big', source: 'sqs', environment: { BODY: bigBody, ORDER: 'o-1' }, event: JSON.parse(bigBody) });
    const key = `claim-check/${createHash('sha256').update(`count\nm-big\n${document}`).digest('hex')}.json`;
    const [call] = rig.fake.runTaskCalls();
    expect(call.overrides).toEqual({
      containerOverrides: [{
        name: 'job',
        environment: [{ name: 'ORDER', value: 'o-1' }, { name: PAYLOAD_URI_ENV, value: `s3://claims/${key}` }],
      }],
    });
    expect(JSON.parse(rig.fake.objects.get(`/claims/${key}`)!)).toEqual({
      version: 1, jobId: 'm-big', source: 'sqs', environment: { BODY: bigBody, ORDER: 'o-1' }, event: JSON.parse(bigBody),
    });
  });

  test('a failed document write launches nothing and retries the record', async () => {
    await start({ job: sqsJob });
    rig.fake.onPutObject = () => 'InternalError';
    const res = await rig.dispatcher().handle({ Records: [sqsRecord('m-big', bigBody, USER_QUEUE)] });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-big' }] });
    expect(rig.logs.find((l) => l.message === 'launch failed, will retry')!.reason)
      .toMatch(/^job m-big: Error: S3 PutObject \/claims\/claim-check\/[0-9a-f]{64}\.json failed: HTTP 500 InternalError: injected$/);
    expect(rig.fake.runTaskCalls()).toEqual([]);
  });

  test('JobField.payloadUri() writes the document for every job, small or not', async () => {
    await start({ job: { environment: { PAYLOAD: '{{hc:job.payloadUri}}' } } });
    await rig.dispatcher().handle({ Records: [s3Message('m-a', [s3Record('a.txt')])] });
    const [call] = rig.fake.runTaskCalls();
    const uri = call.overrides.containerOverrides[0].environment[0].value;
    expect(uri).toMatch(/^s3:\/\/claims\/claim-check\/[0-9a-f]{64}\.json$/);
    expect(JSON.parse(rig.fake.objects.get(`/claims/${uri.slice('s3://claims/'.length)}`)!)).toMatchObject({
      jobId: s3JobId('a.txt'), source: 's3', environment: { PAYLOAD: uri },
    });
  });

  test('without a claim check, oversized values are dead-lettered with what to do', async () => {
    await start({ job: sqsJob, config: { claimCheck: undefined } });
    await rig.dispatcher().handle({ Records: [sqsRecord('m-big', bigBody, USER_QUEUE)] });
    expect(rig.deadLetterReasons()['m-big']).toMatch(/^container overrides are \d+ bytes, over the ECS RunTask limit of 8192: enable the dispatcher's claim check/);
  });
});

describe('the fake endpoint enforces the documented RunTask constraints', () => {
  let fake: FakeAws;
  let ecs: ECSClient;
  beforeAll(async () => {
    fake = await FakeAws.start();
    ecs = new ECSClient({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  });
  afterAll(() => fake.close());
  const base = { cluster: 'c', taskDefinition: 'td:1', launchType: 'FARGATE' as const };

  test.each([
    ['count 11', { count: 11 }, 'count must be between 1 and 10'],
    ['a 65-character token', { clientToken: 'x'.repeat(65) }, 'clientToken must be 1-64 ASCII characters (33-126)'],
    ['a token with a space', { clientToken: 'has space' }, 'clientToken must be 1-64 ASCII characters (33-126)'],
    ['startedBy of 129 characters', { startedBy: 's'.repeat(129) }, 'startedBy is limited to 128 characters'],
    ['overrides over 8,192 characters', { overrides: { containerOverrides: [{ name: 'job', command: ['x'.repeat(8200)] }] } }, 'Container Overrides length must be at most 8192'],
    ['launch type and strategy together', { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }] }, 'Specifying both a launch type and capacity provider strategy is not supported.'],
  ])('%s is rejected', async (_label, extra, message) => {
    await expect(ecs.send(new RunTaskCommand({ ...base, ...extra } as any))).rejects.toMatchObject({ name: 'InvalidParameterException', message });
  });

  test('partial placement: of 4 tasks 2 start and 2 fail for capacity', async () => {
    fake.faults.push({ kind: 'partial' });
    const res = await ecs.send(new RunTaskCommand({ ...base, count: 4, clientToken: 'partial-1' }));
    expect(res.tasks).toHaveLength(2);
    expect(res.failures).toEqual([{ arn: 'c', reason: CAPACITY_REASON }, { arn: 'c', reason: CAPACITY_REASON }]);
  });

  test('tokens are per cluster', async () => {
    const a = await ecs.send(new RunTaskCommand({ ...base, clientToken: 'same' }));
    const b = await ecs.send(new RunTaskCommand({ ...base, cluster: 'other', clientToken: 'same' }));
    expect(a.tasks![0].taskArn).not.toBe(b.tasks![0].taskArn);
  });

  test('the SQS fake answers with the MD5s the SQS client verifies', async () => {
    const r = await Rig.start();
    try {
      const res = await r.dispatcher().handle({ Records: [sqsRecord('bad', '{', DISPATCH_QUEUE)] });
      expect(res).toEqual({ batchItemFailures: [] });
      expect(r.deadLetterReasons()).toEqual({ bad: 'message body is not JSON (1 characters, starts with "{")' });
    } finally {
      await r.close();
    }
  });
});
