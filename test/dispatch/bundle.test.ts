import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { config, DISPATCH_QUEUE, s3Encode, s3Message, s3Record, sqsRecord } from './runtime/fixtures';

/**
 * Runs the shipped bundle (assets/dispatch/dispatcher.lambda/index.js) in a
 * fresh Node process, as Lambda would, against a loopback server that speaks
 * the ECS and SQS JSON protocols: proves the bundle loads, reads its config,
 * and that the real SDK clients send what the unit tests assert.
 */
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'dispatch', 'dispatcher.lambda', 'index.js');

interface Call { target: string; body: any }

function startFakeAws(): Promise<{ server: http.Server; url: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = data ? JSON.parse(data) : {};
      calls.push({ target, body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target.endsWith('.RunTask')) {
        const key = body.overrides?.containerOverrides?.[0]?.environment?.find((e: any) => e.name === 'KEY')?.value;
        if (key === 'no-capacity.txt') {
          res.end(JSON.stringify({ tasks: [], failures: [{ reason: 'Capacity is unavailable at this time.' }] }));
          return;
        }
        res.end(JSON.stringify({ tasks: [{ taskArn: `arn:aws:ecs:eu-west-1:111122223333:task/jobs/${calls.length}` }], failures: [] }));
      } else if (target.endsWith('.SendMessage')) {
        res.setHeader('content-type', 'application/x-amz-json-1.0');
        res.end(JSON.stringify({ MessageId: 'm', MD5OfMessageBody: createHash('md5').update(body.MessageBody).digest('hex') }));
      } else {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls });
  }));
}

function runBundle(url: string, event: unknown): Promise<any> {
  const script = `require(${JSON.stringify(BUNDLE)}).handler(JSON.parse(process.env.EVENT)).then((r) => process.stdout.write('RESULT ' + JSON.stringify(r)))`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        EVENT: JSON.stringify(event),
        // the SQS client sends to the queue URL's host, so the DLQ URL points at the fake
        HC_DISPATCH_CONFIG: JSON.stringify(config({ deadLetterQueueUrl: `${url}/111122223333/dispatch-dlq` })),
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIAFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake',
        AWS_ENDPOINT_URL_ECS: url,
        AWS_ENDPOINT_URL_SQS: url,
      },
      timeout: 30_000,
    }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (err || !line) reject(new Error(`bundle failed: ${err?.message}\n${stderr}\n${stdout}`));
      else resolve({ result: JSON.parse(line.slice(7)), logs: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) });
    });
  });
}

describe('the bundled dispatcher', () => {
  let fake: Awaited<ReturnType<typeof startFakeAws>>;
  beforeAll(async () => {
    if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'npx projen bundle'`);
    fake = await startFakeAws();
  });
  afterAll(() => new Promise<void>((r) => fake.server.close(() => r())));

  test('launches, retries and dead-letters through the real SDK clients', async () => {
    const key = 'in/a b+c%.txt';
    const { result, logs } = await runBundle(fake.url, {
      Records: [
        s3Message('ok', [s3Record(s3Encode(key))]),
        s3Message('capacity', [s3Record('no-capacity.txt')]),
        sqsRecord('garbage', 'not json'),
      ],
    });
    expect(logs.filter((l: any) => l.level === 'ERROR' && l.error)).toEqual([]);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'capacity' }] });
    const runTasks = fake.calls.filter((c) => c.target === 'AmazonEC2ContainerServiceV20141113.RunTask');
    expect(runTasks).toHaveLength(2);
    const ok = runTasks.find((c) => c.body.overrides.containerOverrides[0].environment[1].value === key)!;
    expect(ok.body).toMatchObject({
      cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs',
      count: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { assignPublicIp: 'DISABLED', subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'] } },
      startedBy: 'hc-0123456789abcdef',
      clientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const sends = fake.calls.filter((c) => c.target === 'AmazonSQS.SendMessage');
    expect(sends).toHaveLength(1);
    expect(sends[0].body.MessageBody).toBe('not json');
    expect(sends[0].body.MessageAttributes['hc-source-arn'].StringValue).toBe(DISPATCH_QUEUE);
    expect(logs.find((l: any) => l.message === 'job launched')).toMatchObject({ level: 'INFO', jobId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });
});
