import { createHash } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { sqsSendMessage } from '../../src/internal/runtime/sqs-send';

/** A loopback SQS endpoint answering each request with the next scripted answer. */
async function endpoint(answers: Array<(body: any) => [number, Record<string, unknown>]>) {
  const requests: Array<{ headers: http.IncomingHttpHeaders; body: any; path: string }> = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw);
      requests.push({ headers: req.headers, body, path: req.url ?? '' });
      const [status, answer] = answers[Math.min(requests.length - 1, answers.length - 1)](body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((r) => server.close(r)) };
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const ok = (body: any): [number, Record<string, unknown>] => [200, { MessageId: 'm-1', MD5OfMessageBody: md5(body.MessageBody) }];
const signing = {
  region: 'eu-west-1',
  credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }),
  // The SDK's own HTTP handler, as the handlers use it.
  handler: new ECSClient({ region: 'eu-west-1' }).config.requestHandler as any,
};
const input = {
  QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq',
  MessageBody: 'ünïcode body {"a":1}',
  DelaySeconds: 60,
  MessageAttributes: { 'hc-reason': { DataType: 'String', StringValue: 'why' } },
};

describe('sqsSendMessage (SQS JSON protocol, SigV4)', () => {
  test('sends SendMessage with the input as the JSON body, signed for sqs, and returns the message id', async () => {
    const server = await endpoint([ok]);
    try {
      await expect(sqsSendMessage(signing, server.url)(input)).resolves.toBe('m-1');
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request.path).toBe('/');
      expect(request.body).toEqual(input);
      expect(request.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
      expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
      expect(request.headers['x-amz-security-token']).toBe('token');
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sqs\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/);
    } finally {
      await server.close();
    }
  });

  test('a body SQS stored differently (MD5 mismatch) is an error', async () => {
    const server = await endpoint([() => [200, { MessageId: 'm-1', MD5OfMessageBody: md5('something else') }]]);
    try {
      await expect(sqsSendMessage(signing, server.url)(input)).rejects.toThrow(
        `SQS SendMessage to ${input.QueueUrl}: MD5 of the stored body is ${md5('something else')}, expected ${md5(input.MessageBody)}`);
    } finally {
      await server.close();
    }
  });

  test('5xx and throttling are retried; the third answer counts', async () => {
    const server = await endpoint([
      () => [500, { __type: 'com.amazonaws.sqs#InternalError', message: 'oops' }],
      () => [400, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' }],
      ok,
    ]);
    try {
      await expect(sqsSendMessage(signing, server.url)(input)).resolves.toBe('m-1');
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  test('a client error is not retried and names its type', async () => {
    const server = await endpoint([() => [400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }]]);
    try {
      await expect(sqsSendMessage(signing, server.url)(input)).rejects.toMatchObject({
        name: 'QueueDoesNotExist',
        message: 'sqs SendMessage: QueueDoesNotExist: The specified queue does not exist.',
      });
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  test('without an endpoint it uses AWS_ENDPOINT_URL_SQS', async () => {
    const server = await endpoint([ok]);
    process.env.AWS_ENDPOINT_URL_SQS = server.url;
    try {
      await expect(sqsSendMessage(signing)(input)).resolves.toBe('m-1');
    } finally {
      delete process.env.AWS_ENDPOINT_URL_SQS;
      await server.close();
    }
  });
});
