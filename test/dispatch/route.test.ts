import * as fc from 'fast-check';
import { eventBridgeEvent, fargateTarget, LEDGER, s3Record, WORKER_ARN } from './runtime/fixtures';
import type { RouteRuleConfig, RouteTargetConfig } from '../../src/contract/dispatch-config';
import { Job, JobSourceType } from '../../src/contract/job';
import { classifyInvocation, InvocationRecord, LambdaJobEvent } from '../../src/contract/route';
import { normalizeRecord } from '../../src/dispatch/runtime/normalize';
import { decideRoute, jobSize } from '../../src/dispatch/runtime/route';
import { lambdaRunCosts } from '../../src/dispatch/runtime/route-launcher';
import { unmarshallItem } from '../../src/internal/runtime/dynamodb';
import { taskCosts } from '../../src/tracking/runtime/tracker';
import { lambdaEnvironment, loadBundle, TRACKER_BUNDLE } from '../harness/bundle-loader';
import { LambdaRunEnd, TokenModel } from '../harness/fake-aws';
import { Rig, RigOptions } from '../harness/rig';
import { trackerConfig } from '../tracking/runtime/events';

const s3Job = (key: string, size?: number): Job => ({
  id: `job-${key}`,
  source: JobSourceType.S3,
  fields: { 's3.bucket': 'in', 's3.key': key, 's3.uri': `s3://in/${key}`, 's3.size': size === undefined ? '' : String(size) },
  event: { detail: { tier: key.startsWith('gold') ? 'gold' : 'basic' } },
});

describe('route decisions', () => {
  test('size below: Lambda exactly when the size is known and under the threshold (property)', () => {
    fc.assert(fc.property(fc.option(fc.nat({ max: 2 ** 40 }), { nil: undefined }), fc.integer({ min: 1, max: 2 ** 40 }), (size, threshold) => {
      const rules: RouteRuleConfig[] = [{ kind: 'sizeBelow', bytes: threshold, destination: 0 }];
      const decision = decideRoute(s3Job('k', size), rules, 1);
      expect(decision.destination).toBe(size !== undefined && size < threshold ? 0 : 1);
      expect(decision.reason).toBe(decision.destination === 0 ? `rule 0: size below ${threshold} bytes` : 'no rule matched');
    }), { numRuns: 500 });
  });

  test('the first matching rule wins, over keys and fields (property)', () => {
    const rules: RouteRuleConfig[] = [
      { kind: 'keySuffix', value: '.parquet', destination: 2 },
      { kind: 'keyPrefix', value: 'small/', destination: 0 },
      { kind: 'fieldEquals', field: '{{hc:path:$.detail.tier}}', value: 'gold', destination: 1 },
    ];
    fc.assert(fc.property(fc.constantFrom('small/', 'gold/', 'other/'), fc.string({ maxLength: 12 }), fc.constantFrom('.parquet', '.csv', ''), (prefix, middle, suffix) => {
      const key = `${prefix}${middle}${suffix}`;
      const expected = key.endsWith('.parquet') ? 2 : key.startsWith('small/') ? 0 : key.startsWith('gold') ? 1 : 3;
      expect(decideRoute(s3Job(key), rules, 3).destination).toBe(expected);
    }), { numRuns: 500 });
  });

  test('sizes of SQS and EventBridge jobs are their body and detail bytes; key rules never match them; a missing field does not match', () => {
    const sqs: Job = { id: 'q', source: JobSourceType.SQS, fields: { 'sqs.body': 'héllo', 'sqs.messageId': 'm' }, event: 'héllo' };
    const bridge: Job = { id: 'e', source: JobSourceType.EVENTBRIDGE, fields: { 'eventbridge.detail': '{"a":1}' }, event: { detail: { a: 1 } } };
    expect(jobSize(sqs)).toBe(6);
    expect(jobSize(bridge)).toBe(7);
    expect(jobSize(s3Job('k'))).toBeUndefined();
    expect(decideRoute(sqs, [{ kind: 'keyPrefix', value: '', destination: 0 }], 1).destination).toBe(1);
    expect(decideRoute(bridge, [{ kind: 'fieldEquals', field: '{{hc:path:$.detail.missing}}', value: 'x', destination: 0 }], 1).destination).toBe(1);
  });
});

describe('the outcome queue', () => {
  test('takes only invocation records: anything else a worker sends is dead-lettered with the reason', () => {
    const outcomes = { arn: 'arn:aws:sqs:eu-west-1:111122223333:outcomes', dispatchQueue: true, outcomes: true };
    const envelope = JSON.stringify({ hc: { version: 1, attempt: 1, relaunch: { jobId: 'evil', run: 1, overrides: { containerOverrides: [{ name: 'job', command: ['id'] }] } } } });
    expect(() => normalizeRecord({ messageId: 'm', body: envelope, eventSourceARN: outcomes.arn }, outcomes))
      .toThrow('the outcome queue takes only the invocation records of the route\'s Lambda workers: this message is not one');
  });
});

describe('invocation records: every spelling Lambda documents', () => {
  const record = (condition: string, response?: unknown, functionError?: string): InvocationRecord => ({
    requestContext: { requestId: 'r', functionArn: WORKER_ARN, condition },
    requestPayload: { hc: { compute: 'lambda' } } as unknown as LambdaJobEvent,
    ...(response !== undefined
      ? { responsePayload: response, responseContext: { statusCode: 200, ...(functionError ? { functionError } : {}) } }
      : {}),
  });
  test.each([
    ['success', record('Success', { ok: 1 }), true, false, 'success'],
    ['a timeout with its error type', record('RetriesExhausted', { errorType: 'Sandbox.Timedout', errorMessage: 'x' }, 'Unhandled'), false, true, 'timeout'],
    ['a timeout as the classic message only', record('RetriesExhausted', { errorMessage: '2026-11-27T10:00:00Z abc Task timed out after 3.00 seconds' }, 'Unhandled'), false, true, 'timeout'],
    ['out of memory', record('RetriesExhausted', { errorType: 'Runtime.OutOfMemory', errorMessage: 'x' }, 'Unhandled'), false, true, 'out-of-memory'],
    ['killed (out of memory, older runtimes)', record('RetriesExhausted', { errorMessage: 'Error: Runtime exited with error: signal: killed' }, 'Unhandled'), false, true, 'out-of-memory'],
    ['too old to run', record('EventAgeExceeded'), false, true, 'event-age'],
    ['the worker asks', record('RetriesExhausted', { errorType: 'SpilloverRequested', errorMessage: 'too big' }, 'Unhandled'), false, true, 'requested'],
    ['its own error', record('RetriesExhausted', { errorType: 'TypeError', errorMessage: 'x is undefined' }, 'Unhandled'), false, false, 'error'],
    ['Success with a function error', record('Success', { errorType: 'Error', errorMessage: 'x' }, 'Handled'), false, false, 'error'],
  ])('%s', (_name, r, succeeded, spillable, cause) => {
    expect(classifyInvocation(r)).toMatchObject({ succeeded, spillable, cause });
  });
});

/** Small objects (under 1 MiB) to the worker, the rest to the Fargate job; the worker spills over. */
const ROUTE: Pick<RouteTargetConfig, 'rules' | 'otherwise' | 'destinations'> = {
  rules: [{ kind: 'sizeBelow', bytes: 1024 * 1024, destination: 0 }],
  otherwise: 1,
  destinations: [{ kind: 'lambda', functionArn: WORKER_ARN, spillover: true, memoryMiB: 1024, arm64: true }, { kind: 'fargate' }],
};
const MODELS: TokenModel[] = ['remembered', 'forgotten'];

let rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  rigs = [];
});

async function rig(model: TokenModel, options: RigOptions = {}, runs: (n: number) => LambdaRunEnd = () => 'success'): Promise<Rig> {
  const r = await Rig.start({
    deadlineMs: 1_000,
    bundle: true,
    ...options,
    fake: { ...options.fake, tokenModel: model },
    config: { route: ROUTE, ...options.config },
    queue: { msPerSecond: 20, ...options.queue },
  });
  let n = 0;
  r.fake.lambdaRun = () => runs(n++);
  rigs.push(r);
  return r;
}

const s3Body = (key: string, size: number) => JSON.stringify({ Records: [s3Record(key, { size, sequencer: `SEQ-${key}` })] });
const ledger = (r: Rig) => r.fake.dynamo.items(LEDGER.table).map((i) => unmarshallItem(i)!);

describe.each(MODELS)('routing through the shipped bundle, ECS token model %s', (model) => {
  test('a small object goes to the worker, asynchronously, with the job contract; a large one to Fargate; both recorded', async () => {
    const r = await rig(model);
    r.queue.send(s3Body('small.csv', 10), { messageId: 'm-small' });
    r.queue.send(s3Body('large.csv', 5 * 1024 * 1024), { messageId: 'm-large' });
    await r.queue.drain(r.handler);
    expect(r.fake.invocations).toHaveLength(1);
    const [invocation] = r.fake.invocations;
    expect(invocation.functionArn).toBe(WORKER_ARN);
    const smallJob = invocation.payload.job;
    expect(invocation.payload).toEqual({
      hc: {
        version: 1, dispatcher: r.config.startedBy, jobId: smallJob.id, run: 1, attempt: 1, compute: 'lambda', route: 'rule 0: size below 1048576 bytes',
      },
      job: { id: smallJob.id, source: 's3', fields: expect.objectContaining({ 's3.key': 'small.csv', 's3.size': '10' }), event: expect.any(Object) },
    });
    expect(r.fake.tasks).toHaveLength(1);
    expect(r.fake.tasks[0].overrides.containerOverrides[0].environment).toEqual([
      { name: 'INPUT_URI', value: 's3://input-bucket/large.csv' }, { name: 'KEY', value: 'large.csv' },
    ]);
    const items = ledger(r);
    expect(items.find((i) => i.jobId === smallJob.id)).toMatchObject({ compute: 'lambda', status: 'SUCCEEDED', outcome: 'SUCCEEDED', outcomeRun: 1, taskArn: 'lambda:req-1' });
    expect(items.find((i) => i.jobId !== smallJob.id)).toMatchObject({ compute: 'fargate', status: 'LAUNCHED', run: 1 });
    expect(r.deadLetters).toEqual([]);
    expect(r.logs.filter((l) => l.message === 'job routed').map((l) => l.compute).sort()).toEqual(['fargate', 'lambda']);
    // One outcome model: the Lambda run's event, as the tracker publishes a task's
    expect(r.fake.events).toEqual([{
      Source: 'cdk-hybrid-compute',
      DetailType: 'Job Succeeded',
      EventBusName: 'default',
      Detail: { jobId: smallJob.id, outcome: 'SUCCEEDED', reason: 'the function returned', run: 1, attempt: 1, taskArn: 'lambda:req-1', compute: 'lambda', dispatcher: r.config.startedBy, functionArn: WORKER_ARN },
    }]);
  });

  test.each(['timeout', 'oom', 'spill', 'event-age'] as LambdaRunEnd[])('a Lambda run that ends with %s spills over: the job runs once on Fargate, as run 2', async (end) => {
    const r = await rig(model, {}, () => end);
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.fake.invocations).toHaveLength(1);
    expect(r.fake.tasks).toHaveLength(1);
    const env = r.fake.tasks[0].overrides.containerOverrides[0].environment;
    expect(env).toEqual([{ name: 'INPUT_URI', value: 's3://input-bucket/a.csv' }, { name: 'KEY', value: 'a.csv' }]);
    const [item] = ledger(r);
    expect(item).toMatchObject({ compute: 'fargate', run: 2, status: 'LAUNCHED', attemptState: 'launched' });
    expect(item.spilledOver).toMatch(/^(the function timed out|the function ran out of memory|the function asked to spill over|Lambda did not run the event)/);
    expect(item.tasks).toEqual(['lambda:req-1', r.fake.tasks[0].taskArn]);
    expect(r.deadLetters).toEqual([]);
    expect(r.fake.events).toEqual([]); // the spilled run's outcome is its Fargate task's (the tracker's event)
  });

  test('the invocation record delivered three times (and again after the Fargate run started) launches one task', async () => {
    const r = await rig(model, {}, () => 'timeout');
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    const record = r.fake.messages.find((m) => m.body.includes('requestContext'))!;
    for (let i = 0; i < 3; i++) r.queue.send(record.body);
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(1);
    expect(r.deadLetters).toEqual([]);
  });

  test('the spilled task stops: the shipped tracker publishes Job Succeeded with compute fargate and spilledOver, once', async () => {
    const r = await rig(model, { config: { tracking: true } }, () => 'oom');
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    const tracker = loadBundle(TRACKER_BUNDLE, {
      ...lambdaEnvironment(r.fake),
      HC_TRACKER_CONFIG: JSON.stringify(trackerConfig((name) => r.fake.queueUrl(name), {
        startedBy: r.config.startedBy, cluster: fargateTarget(r.config).job.cluster, dispatchQueueUrl: r.config.dispatchQueueUrl, retryAttempts: 1,
      })),
    }, r.logs);
    const stop = r.fake.stopEvent(r.fake.tasks[0].taskArn, { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0 });
    for (const id of ['s1', 's2']) {
      await tracker({ Records: [{ messageId: id, body: JSON.stringify(stop), eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:tracker' }] });
    }
    expect(r.fake.events).toHaveLength(1);
    expect(r.fake.events[0]).toMatchObject({
      DetailType: 'Job Succeeded',
      Detail: { compute: 'fargate', spilledOver: true, run: 2, spilledOverReason: expect.stringMatching(/^the function ran out of memory/) },
    });
    expect(ledger(r)[0]).toMatchObject({ status: 'SUCCEEDED', outcomeRun: 2, compute: 'fargate' });
  });

  test('a timeout spelled only in the message (no error type) spills over too', async () => {
    const r = await rig(model, { fake: { lambdaTimeoutSpelling: 'message' } }, () => 'timeout');
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(1);
  });

  test('the worker\'s own error: no spillover, the record waits in the DLQ with the reason; the redrive runs the job again on Lambda (run 2)', async () => {
    const r = await rig(model, {}, (n) => (n === 0 ? 'error' : 'success'));
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(0);
    expect(r.deadLetters).toHaveLength(1);
    expect(r.deadLetters[0].attributes['hc-reason']).toMatch(/^job [0-9a-f]{32} run 1 on Lambda: the function failed \(Error: boom\)$/);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.compute, e.Detail.reason])).toEqual([['Job Failed', 'lambda', 'the function failed (Error: boom)']]);
    expect(ledger(r)[0]).toMatchObject({ status: 'FAILED', outcome: 'FAILED', outcomeRun: 1 });
    r.redriveDeadLetters();
    await r.queue.drain(r.handler);
    expect(r.fake.invocations.map((i) => i.payload.hc.run)).toEqual([1, 2]);
    expect(ledger(r)[0]).toMatchObject({ status: 'SUCCEEDED', run: 2, outcomeRun: 2 });
    expect(r.fake.tasks).toHaveLength(0);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.run])).toEqual([['Job Failed', 1], ['Job Succeeded', 2]]);
    // Moved back once more, the record of run 1 finds the job moved on: nothing runs again.
    r.deadLetters.forEach((m) => r.queue.send(m.body, { attributes: m.attributes }));
    await r.queue.drain(r.handler);
    expect(r.fake.invocations).toHaveLength(2);
  });

  test('a second record of the same run that disagrees (a success, then a timeout) acts on the first outcome: no Fargate task', async () => {
    const r = await rig(model, {}, () => 'success');
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    const success = JSON.parse(r.fake.messages.find((m) => m.body.includes('requestContext'))!.body);
    const timeout = {
      ...success,
      requestContext: { ...success.requestContext, requestId: 'req-again', condition: 'RetriesExhausted' },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      responsePayload: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' },
    };
    r.queue.send(JSON.stringify(timeout));
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(0);
    expect(ledger(r)[0]).toMatchObject({ status: 'SUCCEEDED', outcomeRun: 1 });
    expect(r.deadLetters).toEqual([]);
    expect(r.fake.events.map((e) => e.DetailType)).toEqual(['Job Succeeded']);
  });

  test('a record whose job was altered, or of a run never sent, is dead-lettered unsettled: nothing launches', async () => {
    const r = await rig(model, {}, () => 'success');
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    const real = JSON.parse(r.fake.messages.find((m) => m.body.includes('requestContext'))!.body);
    const altered = {
      ...real,
      requestContext: { ...real.requestContext, requestId: 'forged', condition: 'RetriesExhausted' },
      requestPayload: { ...real.requestPayload, hc: { ...real.requestPayload.hc, run: 1 }, job: { ...real.requestPayload.job, fields: { ...real.requestPayload.job.fields, 's3.key': 'other.csv' } } },
      responsePayload: { errorType: 'Sandbox.Timedout', errorMessage: 'x' },
    };
    const unknown = { ...altered, requestPayload: { ...real.requestPayload, hc: { ...real.requestPayload.hc, jobId: 'never-sent' } } };
    r.queue.send(JSON.stringify(altered));
    r.queue.send(JSON.stringify(unknown));
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(0);
    expect(r.fake.invocations).toHaveLength(1);
    expect(Object.values(r.deadLetterReasons()).sort()).toEqual([
      expect.stringMatching(/^invocation record of job [0-9a-f]{32} run 1 does not match what this dispatcher sent/),
      'invocation record of job never-sent run 1, which the ledger does not know (expired, or not sent by this dispatcher)',
    ].sort());
  });

  test('a success record dead-lettered (PutEvents kept failing) and moved back does not run the job again', async () => {
    const r = await rig(model, { config: { maxReceiveCount: 2 } }, () => 'success');
    r.fake.failPutEvents = 10;
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.deadLetters).toHaveLength(1);
    r.fake.failPutEvents = 0;
    r.redriveDeadLetters();
    await r.queue.drain(r.handler);
    expect(r.fake.invocations).toHaveLength(1);
    expect(ledger(r)[0]).toMatchObject({ status: 'SUCCEEDED', run: 1 });
  });

  test('Invoke throttled (429) twice: retried within the call, one invocation', async () => {
    const r = await rig(model);
    r.fake.throttleInvokes = 2;
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    expect(r.fake.invocations).toHaveLength(1);
    expect(ledger(r)[0]).toMatchObject({ status: 'SUCCEEDED' });
  });

  test('an event too large for the worker\'s event goes by claim check; its spillover runs with the overrides computed at routing', async () => {
    const r = await rig(model, { job: { environment: { TYPE: '{{hc:eventbridge.detailType}}' } } }, () => 'timeout');
    r.queue.send(JSON.stringify(eventBridgeEvent('big-1', { blob: 'x'.repeat(210 * 1024) })), { messageId: 'm-big' });
    await r.queue.drain(r.handler);
    const [invocation] = r.fake.invocations;
    expect(invocation.payload.job).toBeUndefined();
    expect(invocation.payload.payloadUri).toMatch(/^s3:\/\/claims\/claim-check\/[0-9a-f]{64}\.json$/);
    const key = invocation.payload.payloadUri.slice('s3://claims/'.length);
    const document = JSON.parse(r.fake.objects.get(`/claims/${key}`)!);
    expect(document).toEqual({ version: 1, job: expect.objectContaining({ id: 'big-1', source: 'eventbridge' }) });
    expect(document.job.event.detail.blob).toHaveLength(210 * 1024);
    expect(invocation.payload.hc.spillover).toEqual({ overrides: { containerOverrides: [{ name: 'job', environment: [{ name: 'TYPE', value: 'OrderPlaced' }] }] } });
    expect(r.fake.tasks).toHaveLength(1);
    expect(r.fake.tasks[0].overrides.containerOverrides[0].environment).toEqual([{ name: 'TYPE', value: 'OrderPlaced' }]);
    expect(r.deadLetters).toEqual([]);
  });

  test('a duplicate delivery of the source record invokes once', async () => {
    const r = await rig(model);
    const body = s3Body('a.csv', 10);
    r.queue.send(body, { messageId: 'm-1' });
    r.queue.send(body, { messageId: 'm-2' });
    await r.queue.drain(r.handler);
    expect(r.fake.invocations).toHaveLength(1);
  });
});

describe('cost estimates (hand-computed, prices of 2026-11)', () => {
  test('a Lambda run of 10 s at 1,024 MB arm64, and the same run as a 1 vCPU / 2 GiB x86 task', () => {
    const costs = lambdaRunCosts({ kind: 'lambda', functionArn: WORKER_ARN, spillover: true, memoryMiB: 1024, arm64: true }, 10_000,
      { cpuUnits: 1024, memoryMiB: 2048, arm64: false, spot: false });
    // 1 GB x 10 s x $0.0000133334 + $0.20 / 1e6
    expect(costs.lambda).toBeCloseTo(0.000133334 + 0.0000002, 12);
    // 35 s start-up + 10 s run = 45 s, billed the 60 s minimum: (1 x 0.04048 + 2 x 0.004445) $/h x 60/3600 h
    expect(costs.fargate).toBeCloseTo((0.04048 + 2 * 0.004445) * 60 / 3600, 12);
  });

  test('a Spot task: billed from the image pull to the stop, at 30% of the price; its run on Lambda at the task memory', () => {
    const costs = taskCosts({
      cpu: '256',
      memory: '512',
      capacityProviderName: 'FARGATE_SPOT',
      pullStartedAt: '2026-11-27T10:00:00.000Z',
      startedAt: '2026-11-27T10:00:30.000Z',
      stoppedAt: '2026-11-27T10:02:10.000Z',
    })!;
    // 30 s pull + 100 s run = 130 s: (0.25 x 0.04048 + 0.5 x 0.004445) x 0.3 $/h x 130/3600 h
    expect(costs.fargate).toBeCloseTo((0.25 * 0.04048 + 0.5 * 0.004445) * 0.3 * 130 / 3600, 12);
    // 0.5 GB x 100 s x $0.0000133334 + $0.0000002
    expect(costs.lambda).toBeCloseTo(0.5 * 100 * 0.0000133334 + 0.0000002, 12);
    expect(taskCosts({ cpu: '256', memory: '512', startedAt: 'x' })).toBeUndefined();
    // a run over 15 minutes could not have run on Lambda: no comparison
    expect(taskCosts({ cpu: '256', memory: '512', pullStartedAt: '2026-11-27T10:00:00Z', startedAt: '2026-11-27T10:00:30Z', stoppedAt: '2026-11-27T11:00:30Z' })!.lambda)
      .toBeUndefined();
  });

  test('a settled Lambda run emits JobsSucceeded and EstimatedCost lines by compute model', async () => {
    const r = await rig('remembered', { config: { route: ROUTE } });
    r.queue.send(s3Body('a.csv', 10), { messageId: 'm-a' });
    await r.queue.drain(r.handler);
    const metrics = r.logs.filter((l: any) => l._aws !== undefined) as any[];
    expect(metrics.find((m) => m.JobsRouted !== undefined)).toMatchObject({ Compute: 'lambda', JobsRouted: 1 });
    expect(metrics.find((m) => m.JobsSucceeded !== undefined)).toMatchObject({ Compute: 'lambda', Cause: 'success', JobsSucceeded: 1 });
    const cost = metrics.find((m) => m.EstimatedCost !== undefined);
    expect(cost).toMatchObject({ Compute: 'lambda' });
    expect(cost.EstimatedCost).toBeGreaterThan(0);
  });
});
