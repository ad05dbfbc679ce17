import { eventBridgeEvent, s3EventBridgeEvent, s3Encode, s3Message, s3Record, sqsRecord, USER_QUEUE } from './fixtures';
import { PermanentError } from '../../../src/dispatch/runtime/errors';
import { decodeS3Key, jobIdFrom, normalizeRecord } from '../../../src/dispatch/runtime/normalize';

const DISPATCH = { arn: 'x', dispatchQueue: true };

function jobsOf(record: ReturnType<typeof sqsRecord>, queue: any = DISPATCH) {
  const r = normalizeRecord(record, queue);
  if (r.kind !== 'jobs') throw new Error(`expected jobs, got ${r.kind}`);
  return r.jobs;
}

describe('S3 keys', () => {
  const keys = [
    'plain.txt',
    'red flower.jpg',
    'a+b=c.txt',
    '100% done.csv',
    'dir/sub dir/file (1).png',
    'time/10:47:07.log',
    'unicodé/日本語/файл 🚀.txt',
    'weird/%2B%25 already-encoded?.txt',
    "quotes'and\"chars&*~.txt",
  ];

  test.each(keys)('classic notification key %j is URL-decoded exactly', (key) => {
    const [job] = jobsOf(s3Message('m1', [s3Record(s3Encode(key))]));
    expect(job.fields['s3.key']).toBe(key);
    expect(job.fields['s3.uri']).toBe(`s3://input-bucket/${key}`);
  });

  test.each(keys)('EventBridge-format key %j is taken as is (that format is not URL-encoded)', (key) => {
    const [job] = jobsOf(sqsRecord('m1', JSON.stringify(s3EventBridgeEvent(key))));
    expect(job.source).toBe('s3');
    expect(job.fields['s3.key']).toBe(key);
  });

  test('the same object event gives the same job id in both formats; a new write gives another', () => {
    const classic = jobsOf(s3Message('m1', [s3Record(s3Encode('a b.txt'), { versionId: 'v1', sequencer: '617f08299329d189' })]))[0];
    const eb = jobsOf(sqsRecord('m2', JSON.stringify(s3EventBridgeEvent('a b.txt'))))[0];
    // the EventBridge fixture uses bucket input-bucket, version v1 and the same sequencer
    expect(eb.id).toBe(classic.id);
    const later = jobsOf(s3Message('m3', [s3Record(s3Encode('a b.txt'), { versionId: 'v1', sequencer: '617f08299329d190' })]))[0];
    expect(later.id).not.toBe(classic.id);
    expect(classic.id).toMatch(/^[0-9a-f]{32}$/);
  });

  test('a key with malformed percent-encoding is a permanent error', () => {
    expect(() => decodeS3Key('bad%ZZkey')).toThrow(PermanentError);
    expect(() => decodeS3Key('bad%ZZkey')).toThrow("s3 object key 'bad%ZZkey' is not valid URL encoding");
  });
});

describe('normalizeRecord', () => {
  test('several S3 records in one message become several jobs with their fields', () => {
    const jobs = jobsOf(s3Message('m1', [s3Record('a.txt', { size: 10 }), s3Record('b.txt', { bucket: 'other', sequencer: '01' })]));
    expect(jobs.map((j) => j.fields)).toEqual([
      { 's3.bucket': 'input-bucket', 's3.key': 'a.txt', 's3.uri': 's3://input-bucket/a.txt', 's3.size': '10', 's3.etag': 'd41d8cd98f00b204e9800998ecf8427e', 's3.versionId': '', 's3.eventName': 'ObjectCreated:Put' },
      { 's3.bucket': 'other', 's3.key': 'b.txt', 's3.uri': 's3://other/b.txt', 's3.size': '1024', 's3.etag': 'd41d8cd98f00b204e9800998ecf8427e', 's3.versionId': '', 's3.eventName': 'ObjectCreated:Put' },
    ]);
  });

  test('S3 test events are skipped, not failed', () => {
    const body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-27T10:00:00Z', Bucket: 'b' });
    expect(normalizeRecord(sqsRecord('m', body), DISPATCH)).toEqual({ kind: 'skip', reason: 's3 test event' });
  });

  test('S3 notifications wrapped in SNS are unwrapped', () => {
    const body = JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ Records: [s3Record('x+y.txt')] }) });
    expect(jobsOf(sqsRecord('m', body))[0].fields['s3.key']).toBe('x y.txt');
  });

  test('EventBridge events: id from the event id, detail fields', () => {
    const [job] = jobsOf(sqsRecord('m', JSON.stringify(eventBridgeEvent('3f1c-uuid', { orderId: '42' }))));
    expect(job).toEqual({
      id: '3f1c-uuid',
      source: 'eventbridge',
      fields: { 'eventbridge.detail': '{"orderId":"42"}', 'eventbridge.detailType': 'OrderPlaced', 'eventbridge.source': 'com.example.orders' },
      event: eventBridgeEvent('3f1c-uuid', { orderId: '42' }),
    });
  });

  test('SQS source messages: id from the message id, body raw, event parsed when JSON', () => {
    const [json] = jobsOf(sqsRecord('11111111-2222', '{"orderId":"7"}', USER_QUEUE), { arn: USER_QUEUE, dispatchQueue: false });
    expect(json).toEqual({ id: '11111111-2222', source: 'sqs', fields: { 'sqs.body': '{"orderId":"7"}', 'sqs.messageId': '11111111-2222' }, event: { orderId: '7' } });
    const [text] = jobsOf(sqsRecord('m2', 'not json', USER_QUEUE), { arn: USER_QUEUE, dispatchQueue: false });
    expect(text.event).toBe('not json');
  });

  test('SQS source messages: a jobId template makes resends of the same work one job', () => {
    const queue = { arn: USER_QUEUE, dispatchQueue: false as const, jobId: '{{hc:path:$.orderId}}' };
    const a = jobsOf(sqsRecord('m1', '{"orderId":"order-7"}', USER_QUEUE), queue)[0];
    const b = jobsOf(sqsRecord('m2', '{"orderId":"order-7"}', USER_QUEUE), queue)[0];
    expect(a.id).toBe('order-7');
    expect(b.id).toBe('order-7');
    expect(() => jobsOf(sqsRecord('m3', '{"other":1}', USER_QUEUE), queue)).toThrow("job field path '$.orderId' is not present in the sqs event");
  });

  test.each([
    ['', 'message body is not JSON (empty)'],
    ['{not json', 'message body is not JSON (9 characters, starts with "{not json")'],
    ['[1,2]', 'message body is JSON but not an object'],
    ['{"Records":[]}', 's3 notification has no records'],
    ['{"Records":[{"eventSource":"aws:s3"}]}', "s3 notification record 0 has no 's3' object"],
    ['{"Records":[{"eventSource":"aws:sqs","s3":{}}]}', "s3 notification record 0 has eventSource 'aws:sqs', expected 'aws:s3'"],
    ['{"Records":[{"s3":{"bucket":{"name":"b"},"object":{}}}]}', 's3 notification record 0 has no object key'],
    ['{"Records":[{"s3":{"bucket":{},"object":{"key":"k"}}}]}', 's3 notification record 0 has no bucket name'],
    ['{"hello":"world"}', 'message is neither an S3 notification nor an EventBridge event'],
    ['{"detail-type":"X","source":"s","detail":{}}', 'EventBridge event has no id'],
    ['{"Type":"Notification","Message":"oops"}', 'SNS notification message is not JSON'],
  ])('malformed dispatch body %j is a permanent error: %s', (body, reason) => {
    let error: unknown;
    try {
      normalizeRecord(sqsRecord('m', body), DISPATCH);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toBe(reason);
  });

  test('job ids: safe ids kept, others hashed to 32 hex characters', () => {
    expect(jobIdFrom('order-7')).toBe('order-7');
    expect(jobIdFrom('a/b c')).toMatch(/^[0-9a-f]{32}$/);
    expect(jobIdFrom('x'.repeat(129))).toMatch(/^[0-9a-f]{32}$/);
  });
});
