import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { lambdaEnvironment } from '../harness/bundle-loader';
import { FakeAws } from '../harness/fake-aws';
import { config, DISPATCH_QUEUE, s3Encode, s3Message, s3Record, sqsRecord, USER_QUEUE } from './runtime/fixtures';
import { taskStopped, trackerConfig } from '../tracking/runtime/events';

/**
 * Runs the shipped bundle (assets/dispatch/dispatcher.lambda/index.js) in a
 * fresh Node process, as Lambda would, against the fake ECS/SQS/S3 endpoint:
 * proves the bundle loads, reads its config and credentials the way Lambda
 * provides them, and that the real SDK clients (and the claim-check PUT)
 * send what the unit tests assert.
 */
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'dispatch', 'dispatcher.lambda', 'index.js');

/** Runs `handler(event)` of a bundle in a fresh Node process with Lambda-like environment variables pointing at the fake. */
function runInNode(bundle: string, fake: FakeAws, event: unknown, env: Record<string, string>): Promise<{ result: any; logs: any[] }> {
  const script = `require(${JSON.stringify(bundle)}).handler(JSON.parse(process.env.EVENT)).then((r) => process.stdout.write('RESULT ' + JSON.stringify(r)))`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        EVENT: JSON.stringify(event),
        // the region, how Lambda hands the function its role's credentials, and the fake's endpoints
        ...lambdaEnvironment(fake),
        ...env,
      },
      timeout: 30_000,
    }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (err || !line) reject(new Error(`bundle failed: ${err?.message}\n${stderr}\n${stdout}`));
      else resolve({ result: JSON.parse(line.slice(7)), logs: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) });
    });
  });
}

function runBundle(fake: FakeAws, event: unknown, job: Parameters<typeof config>[1] = {}) {
  const dispatchConfig = config({
    // the SQS client sends to the queue URL's host, so queue URLs point at the fake
    deadLetterQueueUrl: fake.queueUrl('dispatch-dlq'),
    dispatchQueueUrl: fake.queueUrl('dispatch'),
    claimCheck: { bucket: 'claims', endpoint: `${fake.url}/claims`, prefix: 'claim-check/' },
  }, job);
  return runInNode(BUNDLE, fake, event, { HC_DISPATCH_CONFIG: JSON.stringify(dispatchConfig) });
}

const TRACKER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'tracking', 'tracker.lambda', 'index.js');

describe('the bundled tracker', () => {
  test('classifies a stopped task, publishes Job Succeeded through the real EventBridge client, and retries an interruption', async () => {
    const fake = await FakeAws.start();
    try {
      const event = {
        Records: [
          { messageId: 'ok', body: JSON.stringify(taskStopped()), eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:tracker' },
          {
            messageId: 'spot',
            body: JSON.stringify(taskStopped({
              taskId: 'spot0000000000000000000000000000', env: { HC_JOB_ID: 'job-2' }, stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', job: {},
            })),
            eventSourceARN: 'x',
          },
        ],
      };
      const { result } = await runInNode(TRACKER_BUNDLE, fake, event, {
        HC_TRACKER_CONFIG: JSON.stringify(trackerConfig((name) => fake.queueUrl(name))),
      });
      expect(result).toEqual({ batchItemFailures: [] });
      expect(fake.events.map((e) => [e.DetailType, e.Detail.jobId, e.Detail.outcome])).toEqual([['Job Succeeded', 'job-1', 'SUCCEEDED']]);
      expect(fake.messages.map((m) => [m.queueUrl, JSON.parse(m.body).hc.relaunch.run])).toEqual([[fake.queueUrl('dispatch'), 2]]);
    } finally {
      await fake.close();
    }
  });
});

describe('the bundled dispatcher', () => {
  let fake: FakeAws;
  beforeAll(async () => {
    if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'npx projen bundle'`);
    fake = await FakeAws.start();
  });
  afterAll(() => fake.close());

  test('launches, retries and dead-letters through the real SDK clients', async () => {
    const key = 'in/a b+c%.txt';
    fake.faults.push({ kind: 'capacity', match: (i) => JSON.stringify(i.overrides ?? {}).includes('no-capacity.txt') });
    const { result, logs } = await runBundle(fake, {
      Records: [
        s3Message('ok', [s3Record(s3Encode(key))]),
        s3Message('capacity', [s3Record('no-capacity.txt')]),
        sqsRecord('garbage', 'not json'),
      ],
    });
    expect(logs.filter((l: any) => l.level === 'ERROR' && l.error)).toEqual([]);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'capacity' }] });
    expect(fake.messages.map((m) => [m.attributes['hc-message-id'], m.attributes['hc-reason']])).toEqual([
      ['garbage', 'message body is not JSON (8 characters, starts with "not json")'],
    ]);
    const runTasks = fake.runTaskCalls();
    const ok = runTasks.find((c) => JSON.stringify(c.overrides).includes(JSON.stringify(key)));
    expect(ok).toMatchObject({
      cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs',
      count: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { assignPublicIp: 'DISABLED', subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'] } },
      startedBy: 'hc-0123456789abcdef',
      clientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(fake.messages.find((m) => m.attributes['hc-message-id'] === 'garbage')!.attributes['hc-source-arn']).toBe(DISPATCH_QUEUE);
    expect(logs.find((l: any) => l.message === 'job launched')).toMatchObject({ level: 'INFO', jobId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  test('signs and writes the claim-check document with the Lambda credentials, then launches with its URI', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(9000) });
    const { result } = await runBundle(fake, { Records: [sqsRecord('big', big, USER_QUEUE)] }, { environment: { BODY: '{{hc:sqs.body}}' } });
    expect(result).toEqual({ batchItemFailures: [] });
    const [path_, document] = [...fake.objects.entries()].find(([p]) => p.startsWith('/claims/claim-check/'))!;
    expect(JSON.parse(document)).toMatchObject({ version: 1, jobId: 'big', source: 'sqs', environment: { BODY: big } });
    const call = fake.runTaskCalls().find((c) => c.tags[0].value === 'big');
    expect(call.overrides.containerOverrides[0].environment).toEqual([{ name: 'HC_PAYLOAD_URI', value: `s3://${path_.slice(1)}` }]);
    const put = fake.requests.find((r) => r.method === 'PUT')!;
    expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAFAKE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=\S*x-amz-content-sha256\S*, Signature=[0-9a-f]{64}$/);
    expect(put.headers['x-amz-security-token']).toBe('session');
  });
});
