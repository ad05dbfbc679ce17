import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  config, DISPATCH_QUEUE, dispatcherFor, DLQ_URL, eventBridgeEvent, s3Encode, s3Message, s3Record, sqsRecord, USER_QUEUE,
} from './fixtures';
import { parseConfig } from '../../../src/dispatch/runtime/dispatcher';
import { clientToken } from '../../../src/dispatch/runtime/fargate-launcher';
import type { SendMessageInput } from '../../../src/internal/runtime/sqs-send';

const ecsMock = mockClient(ECSClient);
/** What the dispatcher sent to SQS; `sendFails` makes SendMessage fail. */
const sent: SendMessageInput[] = [];
let sendFails: Error | undefined;
const sendMessage = async (input: SendMessageInput) => {
  if (sendFails) throw sendFails;
  sent.push(input);
  return `dlq-${sent.length}`;
};
const logs: any[] = [];

function dispatcher(c = config()) {
  return dispatcherFor(c, {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    sendMessage,
    putObject: async () => undefined,
    log: (level, message, fields) => logs.push({ level, message, ...fields }),
    metrics: false,
  });
}

const launched = (arn = 'arn:aws:ecs:eu-west-1:111122223333:task/jobs/abc') => ({ tasks: [{ taskArn: arn }], failures: [] });
const runTaskInputs = () => ecsMock.commandCalls(RunTaskCommand).map((c) => c.args[0].input);
const deadLetters = () => [...sent];

beforeEach(() => {
  ecsMock.reset();
  sent.length = 0;
  sendFails = undefined;
  logs.length = 0;
  ecsMock.on(RunTaskCommand).resolves(launched());
});

const BASE_INPUT = {
  cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs',
  taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/count:3',
  count: 1,
  launchType: 'FARGATE',
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
  startedBy: 'hc-0123456789abcdef',
};

function tags(jobId: string) {
  return [
    { key: 'hc:job-id', value: jobId },
    { key: 'hc:dispatcher', value: 'hc-0123456789abcdef' },
    { key: 'hc:attempt', value: '1' },
  ];
}

describe('exact RunTask inputs', () => {
  test('S3 record with a key full of special characters', async () => {
    const key = 'uploads/red flower+100%/日本 🚀.txt';
    const res = await dispatcher().handle({ Records: [s3Message('m1', [s3Record(s3Encode(key))])] });
    expect(res).toEqual({ batchItemFailures: [] });
    const inputs = runTaskInputs();
    expect(inputs).toHaveLength(1);
    const jobId = inputs[0].tags![0].value!;
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(inputs[0]).toEqual({
      ...BASE_INPUT,
      overrides: {
        containerOverrides: [{
          name: 'job',
          environment: [
            { name: 'INPUT_URI', value: `s3://input-bucket/${key}` },
            { name: 'KEY', value: key },
          ],
        }],
      },
      clientToken: clientToken('count', jobId, 1),
      tags: tags(jobId),
    });
    expect(inputs[0].clientToken).toMatch(/^[0-9a-f]{64}$/);
  });

  test('SQS record: body, message id and a path into the body', async () => {
    const c = config({}, {
      environment: { ORDER: '{{hc:sqs.body}}', ORDER_ID: '{{hc:path:$.order.id}}' },
      command: ['process', '--id={{hc:path:$.order.id}}', '{{hc:job.id}}'],
    });
    const body = '{"order":{"id":"o-1","items":[1,2]}}';
    await dispatcher(c).handle({ Records: [sqsRecord('5e1a-msg', body, USER_QUEUE)] });
    expect(runTaskInputs()).toEqual([{
      ...BASE_INPUT,
      overrides: {
        containerOverrides: [{
          name: 'job',
          environment: [{ name: 'ORDER', value: body }, { name: 'ORDER_ID', value: 'o-1' }],
          command: ['process', '--id=o-1', '5e1a-msg'],
        }],
      },
      clientToken: clientToken('count', '5e1a-msg', 1),
      tags: tags('5e1a-msg'),
    }]);
  });

  test('EventBridge record: detail as JSON, detail-type, a nested path', async () => {
    const c = config({}, {
      environment: { DETAIL: '{{hc:eventbridge.detail}}', TYPE: '{{hc:eventbridge.detailType}}', ITEMS: '{{hc:path:$.detail.items}}' },
    });
    const event = eventBridgeEvent('ev-123', { orderId: '42', items: [{ sku: 'a' }] });
    await dispatcher(c).handle({ Records: [sqsRecord('m1', JSON.stringify(event))] });
    expect(runTaskInputs()).toEqual([{
      ...BASE_INPUT,
      overrides: {
        containerOverrides: [{
          name: 'job',
          environment: [
            { name: 'DETAIL', value: '{"orderId":"42","items":[{"sku":"a"}]}' },
            { name: 'ITEMS', value: '[{"sku":"a"}]' },
            { name: 'TYPE', value: 'OrderPlaced' },
          ],
        }],
      },
      clientToken: clientToken('count', 'ev-123', 1),
      tags: tags('ev-123'),
    }]);
  });

  test('no markers: no overrides at all; a capacity provider strategy replaces the launch type', async () => {
    const c = config({}, { environment: {}, capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] });
    await dispatcher(c).handle({ Records: [sqsRecord('m1', JSON.stringify(eventBridgeEvent('e1', {})))] });
    const input = runTaskInputs()[0];
    expect(input.overrides).toBeUndefined();
    expect(input.launchType).toBeUndefined();
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
  });
});

describe('client tokens', () => {
  test('deterministic per (family, job, attempt), 64 ASCII characters', () => {
    const t = clientToken('count', 'job-1', 1);
    expect(t).toHaveLength(64);
    expect(t).toMatch(/^[\x21-\x7e]+$/);
    expect(clientToken('count', 'job-1', 1)).toBe(t);
    expect(clientToken('count', 'job-1', 2)).not.toBe(t);
    expect(clientToken('other', 'job-1', 1)).not.toBe(t);
  });

  test('a redelivered S3 event produces the same token, so ECS returns the first launch', async () => {
    const msg = s3Message('m1', [s3Record('a.txt')]);
    await dispatcher().handle({ Records: [msg] });
    await dispatcher().handle({ Records: [{ ...msg, messageId: 'm1-duplicate' }] });
    const [first, second] = runTaskInputs();
    expect(second.clientToken).toBe(first.clientToken);
  });
});

describe('batchItemFailures and dead-lettering', () => {
  test('mixed batch: launched, capacity failure, throttled, malformed, unresolvable, skipped', async () => {
    ecsMock.on(RunTaskCommand).callsFake((input) => {
      const key = input.overrides?.containerOverrides?.[0]?.environment?.find((e: any) => e.name === 'KEY')?.value;
      if (key === 'capacity.txt') {
        return { tasks: [], failures: [{ arn: 'x', reason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone' }] };
      }
      if (key === 'throttled.txt') {
        const e = new Error('Rate exceeded');
        e.name = 'ThrottlingException';
        throw e;
      }
      return launched();
    });
    const records = [
      s3Message('ok', [s3Record('ok.txt')]),
      s3Message('capacity', [s3Record('capacity.txt')]),
      s3Message('throttled', [s3Record('throttled.txt')]),
      sqsRecord('garbage', 'not json at all'),
      sqsRecord('wrong-field', JSON.stringify(eventBridgeEvent('e1', {}))),
      sqsRecord('test-event', JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' })),
    ];
    // no time left in the batch: a throttled launch is not retried in it
    const res = await dispatcher().handle({ Records: records }, { deadline: Date.now() });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'capacity' }, { itemIdentifier: 'throttled' }] });
    expect(deadLetters()).toEqual([
      {
        QueueUrl: DLQ_URL,
        MessageBody: 'not json at all',
        MessageAttributes: {
          'hc-reason': { DataType: 'String', StringValue: 'message body is not JSON (15 characters, starts with "not json at all")' },
          'hc-source-arn': { DataType: 'String', StringValue: DISPATCH_QUEUE },
          'hc-message-id': { DataType: 'String', StringValue: 'garbage' },
          'hc-receive-count': { DataType: 'Number', StringValue: '1' },
        },
      },
      {
        QueueUrl: DLQ_URL,
        MessageBody: JSON.stringify(eventBridgeEvent('e1', {})),
        MessageAttributes: {
          'hc-reason': { DataType: 'String', StringValue: "job field 's3.uri' is not available for a job from eventbridge (it comes from s3 jobs)" },
          'hc-source-arn': { DataType: 'String', StringValue: DISPATCH_QUEUE },
          'hc-message-id': { DataType: 'String', StringValue: 'wrong-field' },
          'hc-receive-count': { DataType: 'Number', StringValue: '1' },
        },
      },
    ]);
    // ok, capacity, throttled were attempted; malformed ones never reached ECS
    expect(runTaskInputs()).toHaveLength(3);
    expect(logs.find((l) => l.message === 'batch done')).toEqual({
      'level': 'INFO', 'message': 'batch done', 'records': 6, 'launched': 1, 'retry': 2, 'dead-lettered': 2, 'skipped': 1,
    });
  });

  test('a record still failing on its last receive is dead-lettered with the failure reason', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:ENI' }] });
    const res = await dispatcher().handle({ Records: [s3Message('m1', [s3Record('a.txt')], 5)] });
    expect(res.batchItemFailures).toEqual([]);
    const [dl] = deadLetters();
    expect(dl.MessageAttributes!['hc-reason'].StringValue).toMatch(
      /^launch still failing after 5 receives: job [0-9a-f]{32}: RunTask started no task: attempt 1 \(primary\): RESOURCE:ENI$/);
    expect(dl.MessageAttributes!['hc-receive-count'].StringValue).toBe('5');
    // the ledger had nothing for the job: one new attempt, whatever the receive count
    expect(runTaskInputs().map((i) => i.tags![2].value)).toEqual(['1']);
  });

  test('when dead-lettering itself fails the record is retried, not lost', async () => {
    sendFails = new Error('sqs down');
    const res = await dispatcher().handle({ Records: [sqsRecord('bad', '{')] });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });

  test('a multi-record S3 message with one permanent error launches none of its jobs', async () => {
    const res = await dispatcher().handle({ Records: [s3Message('m1', [s3Record('good.txt'), s3Record('bad%ZZ')])] });
    expect(res.batchItemFailures).toEqual([]);
    expect(runTaskInputs()).toHaveLength(0);
    expect(deadLetters()[0].MessageAttributes!['hc-reason'].StringValue).toBe("s3 object key 'bad%ZZ' is not valid URL encoding");
  });

  test('a multi-record message with one retryable failure is retried as a whole; relaunches reuse tokens', async () => {
    let calls = 0;
    ecsMock.on(RunTaskCommand).callsFake(() => (++calls === 2 ? { tasks: [], failures: [{ reason: 'Capacity is unavailable at this time.' }] } : launched()));
    const msg = s3Message('m1', [s3Record('a.txt'), s3Record('b.txt')]);
    const res = await dispatcher(config({ launchConcurrency: 1 })).handle({ Records: [msg] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    await dispatcher().handle({ Records: [msg] });
    const tokens = runTaskInputs().map((i) => i.clientToken);
    expect(new Set(tokens).size).toBe(2);
  });

  test('overrides over 8,192 bytes fail the record with a clear reason instead of calling ECS', async () => {
    const c = config({}, { environment: { BODY: '{{hc:sqs.body}}' } });
    const res = await dispatcher(c).handle({ Records: [sqsRecord('big', 'x'.repeat(9000), USER_QUEUE)] });
    expect(res.batchItemFailures).toEqual([]);
    expect(runTaskInputs()).toHaveLength(0);
    expect(deadLetters()[0].MessageAttributes!['hc-reason'].StringValue).toBe(
      'container overrides are 9082 bytes, over the ECS RunTask limit of 8192: enable the dispatcher\'s claim check, or map a smaller part of the event (JobField.fromPath) instead of the whole event or body');
  });

  test('overrides are measured in UTF-8 bytes: 3,000 three-byte characters exceed the limit', async () => {
    const c = config({}, { environment: { BODY: '{{hc:sqs.body}}' } });
    await dispatcher(c).handle({ Records: [sqsRecord('big', '日'.repeat(3000), USER_QUEUE)] });
    expect(runTaskInputs()).toHaveLength(0);
    expect(deadLetters()).toHaveLength(1);
  });

  test('ConflictException with resourceIds (same token, other parameters): the job launched before, its task is recorded', async () => {
    const e = Object.assign(new Error('token reused'), { name: 'ConflictException', resourceIds: ['arn:aws:ecs:eu-west-1:111122223333:task/jobs/earlier'] });
    ecsMock.on(RunTaskCommand).rejects(e);
    const res = await dispatcher().handle({ Records: [s3Message('m1', [s3Record('a.txt')])] });
    expect(res.batchItemFailures).toEqual([]);
    expect(deadLetters()).toEqual([]);
    expect(logs.find((l) => l.message === 'client token used before with other parameters')).toMatchObject({ resourceIds: ['arn:aws:ecs:eu-west-1:111122223333:task/jobs/earlier'] });
  });

  test('ConflictException without resourceIds: that token started nothing, so the record is retried (the next delivery takes the next token)', async () => {
    const e = Object.assign(new Error('token reused'), { name: 'ConflictException' });
    ecsMock.on(RunTaskCommand).rejects(e);
    const d = dispatcher();
    const res = await d.handle({ Records: [s3Message('m1', [s3Record('a.txt')])] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    ecsMock.on(RunTaskCommand).resolves(launched());
    expect(await d.handle({ Records: [s3Message('m1', [s3Record('a.txt')], 2)] })).toEqual({ batchItemFailures: [] });
    expect(runTaskInputs().map((i) => i.tags![2].value)).toEqual(['1', '2']);
  });

  test('records from a queue that is not a source are dead-lettered', async () => {
    const res = await dispatcher().handle({ Records: [sqsRecord('m1', '{}', 'arn:aws:sqs:eu-west-1:1:elsewhere')] });
    expect(res.batchItemFailures).toEqual([]);
    expect(deadLetters()[0].MessageAttributes!['hc-reason'].StringValue).toBe(
      "record comes from 'arn:aws:sqs:eu-west-1:1:elsewhere', which is not a source of this dispatcher");
  });

  test('an empty or missing batch is an empty response', async () => {
    expect(await dispatcher().handle({ Records: [] })).toEqual({ batchItemFailures: [] });
    expect(await dispatcher().handle({} as any)).toEqual({ batchItemFailures: [] });
  });

  test('launches run concurrently up to launchConcurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    ecsMock.on(RunTaskCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return launched();
    });
    const records = Array.from({ length: 10 }, (_, i) => s3Message(`m${i}`, [s3Record(`k${i}.txt`)]));
    await dispatcher(config({ launchConcurrency: 4 })).handle({ Records: records });
    expect(peak).toBe(4);
    expect(runTaskInputs()).toHaveLength(10);
  });
});

describe('parseConfig', () => {
  test.each([
    [undefined, 'dispatcher config is missing'],
    ['{"version":1}', 'dispatcher config version 1 is not supported (expected 3)'],
    ['{"version":3,"startedBy":"x","deadLetterQueueUrl":"u","dispatchQueueUrl":"q","queues":{},"target":{"kind":"workflow"}}', 'dispatcher config queues must be a list'],
    ['{"version":3,"startedBy":"x","deadLetterQueueUrl":"u","queues":[],"target":{"kind":"workflow"}}', "dispatcher config has no 'dispatchQueueUrl'"],
    ['{"version":3,"startedBy":"x","queues":[],"target":{"kind":"workflow"}}', "dispatcher config has no 'deadLetterQueueUrl'"],
    ['{"version":3,"startedBy":"x","deadLetterQueueUrl":"u","dispatchQueueUrl":"q","queues":[]}', "dispatcher config has no 'target'"],
    ['{"version":3,"startedBy":"x","deadLetterQueueUrl":"u","dispatchQueueUrl":"q","queues":[],"target":{"kind":"lambda"}}',
      "dispatcher config target kind 'lambda' is not supported"],
  ])('%s → %s', (text, message) => {
    expect(() => parseConfig(text)).toThrow(message);
  });

  test('accepts what the construct renders', () => {
    expect(parseConfig(JSON.stringify(config())).startedBy).toBe('hc-0123456789abcdef');
  });
});

describe('tracking entries and metrics', () => {
  test('with tracking, every launch carries the job id, run, attempt and enqueue time on the job container', async () => {
    const record = { ...s3Message('m1', [s3Record('a.txt')]), attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1795773600000' } };
    await dispatcher(config({ tracking: true })).handle({ Records: [record] });
    const [input] = runTaskInputs();
    const jobId = input.tags![0].value!;
    expect(input.overrides).toEqual({
      containerOverrides: [{
        name: 'job',
        environment: [
          { name: 'INPUT_URI', value: 's3://input-bucket/a.txt' },
          { name: 'KEY', value: 'a.txt' },
          { name: 'HC_JOB_ID', value: jobId },
          { name: 'HC_RUN', value: '1' },
          { name: 'HC_ATTEMPT', value: '1' },
          { name: 'HC_ENQUEUED_AT', value: '2026-11-27T10:00:00.000Z' },
        ],
      }],
    });
  });

  test('a relaunch envelope launches with its overrides, fresh tracking entries, its run and attempt', async () => {
    const envelope = {
      hc: {
        version: 1,
        attempt: 3,
        enqueuedAt: 1795773600000,
        relaunch: { jobId: 'job-7', run: 2, overrides: { containerOverrides: [{ name: 'job', environment: [{ name: 'KEY', value: 'k' }, { name: 'HC_RUN', value: '1' }] }] } },
      },
    };
    const res = await dispatcher(config({ tracking: true })).handle({ Records: [sqsRecord('retry', JSON.stringify(envelope))] });
    expect(res).toEqual({ batchItemFailures: [] });
    const [input] = runTaskInputs();
    expect(input.clientToken).toBe(clientToken('count', 'job-7', 3));
    expect(input.overrides!.containerOverrides![0].environment).toEqual([
      { name: 'KEY', value: 'k' },
      { name: 'HC_JOB_ID', value: 'job-7' },
      { name: 'HC_RUN', value: '2' },
      { name: 'HC_ATTEMPT', value: '3' },
      { name: 'HC_ENQUEUED_AT', value: '2026-11-27T10:00:00.000Z' },
    ]);
  });

  test('each batch emits EMF lines: records, launches, dead letters, deferrals, and launch failures by reason', async () => {
    ecsMock.on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: 'Capacity is unavailable at this time' }] })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves(launched());
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      await dispatcherFor(config(), { ecs: new ECSClient({ region: 'eu-west-1' }), sendMessage, log: () => undefined })
        .handle({
          Records: [
            s3Message('a', [s3Record('a.txt')]), s3Message('b', [s3Record('b.txt')]), s3Message('c', [s3Record('c.txt')]), sqsRecord('bad', '{'),
          ],
        }, { deadline: Date.now() });
    } finally {
      spy.mockRestore();
    }
    // a: capacity failure (retried); b: throttled (retried); c: launched; bad: dead-lettered
    const failuresBy = (reason: string) => ({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [{ Namespace: 'cdk-hybrid-compute', Dimensions: [['Dispatcher'], ['Dispatcher', 'Reason']], Metrics: [{ Name: 'LaunchFailures', Unit: 'Count' }] }],
      },
      Dispatcher: 'hc-0123456789abcdef',
      Reason: reason,
      LaunchFailures: 1,
    });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [{
            Namespace: 'cdk-hybrid-compute',
            Dimensions: [['Dispatcher']],
            Metrics: ['RecordsReceived', 'JobsLaunched', 'RecordsDeadLettered', 'RecordsDeferred'].map((Name) => ({ Name, Unit: 'Count' })),
          }],
        },
        Dispatcher: 'hc-0123456789abcdef',
        RecordsReceived: 4,
        JobsLaunched: 1,
        RecordsDeadLettered: 1,
        RecordsDeferred: 0,
      },
      failuresBy('capacity'),
      failuresBy('throttling'),
    ]);
  });
});
