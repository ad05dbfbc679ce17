import * as fc from 'fast-check';
import {
  config, DISPATCH_QUEUE, eventBridgeEvent, s3Encode, s3EventBridgeEvent, s3Record, sqsRecord, USER_QUEUE,
  dispatcherFor, fargateTarget,
} from './fixtures';
import { MAX_OVERRIDES_CHARS } from '../../../src/contract/dispatch-config';
import { ENVELOPE_KEY } from '../../../src/contract/job';
import { RecordOutcome } from '../../../src/dispatch/runtime/dispatcher';
import { PermanentError } from '../../../src/dispatch/runtime/errors';
import { overridesSize, prepareJob } from '../../../src/dispatch/runtime/input-mapping';
import { normalizeRecord } from '../../../src/dispatch/runtime/normalize';
import type { SqsRecord } from '../../../src/internal/runtime/sqs';

/**
 * Thousands of random and malformed records through normalization, input
 * mapping and the whole dispatcher: every record ends launched, skipped,
 * retried or dead-lettered with a reason, and nothing throws out of the
 * handler.
 */

const CLAIM_CHECK = { bucket: 'claims', endpoint: 'https://claims.s3.eu-west-1.amazonaws.com', prefix: 'claim-check/' };
const anyText = fc.string({ unit: 'binary', maxLength: 64 });
const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 });

/** JSON values, some deep, some with odd unicode keys. */
const jsonValue = fc.jsonValue({ maxDepth: 4 });
const hugeText = fc.integer({ min: 8_000, max: 300_000 }).map((n) => 'x'.repeat(n));

const s3Body = fc.oneof(
  fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => ({ Records: keys.map((k) => s3Record(s3Encode(k))) })),
  key.map((k) => ({ Records: [s3Record(`${s3Encode(k)}%`)] })), // broken URL encoding
  key.map((k) => ({ Records: [{ ...s3Record(s3Encode(k)), s3: { bucket: {}, object: { key: k } } }] })), // no bucket name
  fc.constant({ Records: [] }),
  fc.constant({ Event: 's3:TestEvent', Service: 'Amazon S3' }),
  key.map((k) => ({ Type: 'Notification', Message: JSON.stringify({ Records: [s3Record(s3Encode(k))] }) })),
  fc.constant({ Type: 'Notification', Message: '{not json' }),
);
const eventBridgeBody = fc.oneof(
  fc.tuple(fc.uuid(), jsonValue).map(([id, detail]) => eventBridgeEvent(id, detail)),
  key.map((k) => s3EventBridgeEvent(k, `eb-${k.length}`)),
  jsonValue.map((detail) => ({ ...eventBridgeEvent('', detail) })), // no id
  hugeText.map((t) => eventBridgeEvent('big', { text: t })),
);
const envelopeBody = fc.oneof(
  fc.record({ id: fc.string({ minLength: 1, maxLength: 40 }), attempt: fc.integer({ min: -2, max: 9 }) }).map(({ id, attempt }) => ({
    [ENVELOPE_KEY]: { version: 1, attempt, jobs: [{ id, source: 's3', fields: { 's3.key': id, 's3.uri': `s3://b/${id}` }, event: {} }] },
  })),
  jsonValue.map((v) => ({ [ENVELOPE_KEY]: v })),
);
const dispatchBody = fc.oneof(
  s3Body.map((b) => JSON.stringify(b)),
  eventBridgeBody.map((b) => JSON.stringify(b)),
  envelopeBody.map((b) => JSON.stringify(b)),
  jsonValue.map((v) => JSON.stringify(v)),
  anyText, // mostly not JSON
  fc.constant(''),
);
const sqsBody = fc.oneof(jsonValue.map((v) => JSON.stringify(v)), anyText, hugeText, fc.constant(''));

const record: fc.Arbitrary<SqsRecord> = fc.record({
  messageId: fc.oneof(fc.uuid(), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })),
  source: fc.constantFrom(DISPATCH_QUEUE, DISPATCH_QUEUE, USER_QUEUE, 'arn:aws:sqs:eu-west-1:111122223333:stranger', ''),
  receiveCount: fc.integer({ min: 1, max: 6 }),
  dispatch: dispatchBody,
  sqs: sqsBody,
}).map((r) => sqsRecord(r.messageId, r.source === USER_QUEUE ? r.sqs : r.dispatch, r.source, r.receiveCount));

/** A job mapping that uses every kind of field, so some fields are missing for some sources. */
const JOB_ENV = {
  KEY: '{{hc:s3.key}}',
  BODY: '{{hc:sqs.body}}',
  DETAIL: '{{hc:eventbridge.detail}}',
  ORDER: '{{hc:path:$.detail.order}}',
  ID: '{{hc:job.id}}',
};

describe('normalization and input mapping never fail with anything but a reason', () => {
  test('every record normalizes to jobs or a skip, or throws PermanentError; every job maps within the limit or throws PermanentError', () => {
    fc.assert(fc.property(record, fc.constantFrom(...Object.keys(JOB_ENV)), fc.boolean(), (r, field, claimCheck) => {
      const queue = config().queues.find((q) => q.arn === r.eventSourceARN);
      if (!queue) return;
      let result;
      try {
        result = normalizeRecord(r, queue);
      } catch (e) {
        expect(e).toBeInstanceOf(PermanentError);
        expect((e as Error).message.length).toBeGreaterThan(10);
        return;
      }
      if (result.kind !== 'jobs') return;
      expect(result.jobs.length).toBeGreaterThan(0);
      expect(Number.isInteger(result.attempt) && result.attempt >= 1).toBe(true);
      for (const job of result.jobs) {
        expect(job.id).toMatch(/^.{1,128}$/s);
        const launch = { ...fargateTarget(config()).job, environment: { [field]: JOB_ENV[field as keyof typeof JOB_ENV] } };
        try {
          const prepared = prepareJob(launch, job, claimCheck ? CLAIM_CHECK : undefined);
          expect(overridesSize(prepared.overrides)).toBeLessThanOrEqual(MAX_OVERRIDES_CHARS);
          if (prepared.claimCheck) expect(JSON.parse(prepared.claimCheck.body).jobId).toBe(job.id);
        } catch (e) {
          expect(e).toBeInstanceOf(PermanentError);
        }
      }
    }), { numRuns: 3000 });
  });

  test('S3 keys of any unicode survive URL encoding, and both S3 formats give one job id', () => {
    fc.assert(fc.property(key, (k) => {
      const notification = { Records: [s3Record(s3Encode(k), { sequencer: '617f08299329d189', versionId: 'v1' })] };
      const classic = normalizeRecord(sqsRecord('m', JSON.stringify(notification)), config().queues[0]);
      const bridged = normalizeRecord(sqsRecord('m', JSON.stringify(s3EventBridgeEvent(k))), config().queues[0]);
      if (classic.kind !== 'jobs' || bridged.kind !== 'jobs') throw new Error('not jobs');
      expect(classic.jobs[0].fields['s3.key']).toBe(k);
      expect(bridged.jobs[0].fields['s3.key']).toBe(k);
      expect(bridged.jobs[0].id).toBe(classic.jobs[0].id);
    }), { numRuns: 1000 });
  });
});

describe('the dispatcher accounts for every record', () => {
  test('each record of a random batch ends launched, skipped, retried or dead-lettered with a reason; handle() never throws', async () => {
    const ecsBehaviour = fc.constantFrom('ok', 'ok', 'ok', 'capacity', 'throttle', 'conflict');
    const batches = fc.array(record, { maxLength: 12 });
    await fc.assert(fc.asyncProperty(batches, fc.array(ecsBehaviour, { minLength: 1, maxLength: 8 }), async (records, behaviours) => {
      let call = 0;
      const launchedJobs: string[] = [];
      const ecs = {
        send: async (command: any) => {
          const behaviour = behaviours[call++ % behaviours.length];
          if (behaviour === 'throttle') throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
          if (behaviour === 'conflict') throw Object.assign(new Error('same token'), { name: 'ConflictException' });
          if (behaviour === 'capacity') return { tasks: [], failures: [{ reason: 'Capacity is unavailable at this time' }] };
          launchedJobs.push(command.input.tags[0].value);
          return { tasks: [{ taskArn: `arn:task/${call}` }], failures: [] };
        },
      };
      const deadLetters: any[] = [];
      const sendMessage = async (input: any) => { deadLetters.push(input); return 'x'; };
      const dispatcher = dispatcherFor(config({ claimCheck: CLAIM_CHECK }, { environment: JOB_ENV }), {
        ecs: ecs as any, sendMessage, putObject: async () => undefined, log: () => undefined, metrics: false,
      });
      const outcomes: RecordOutcome[] = [];
      for (const r of records) outcomes.push(await dispatcher.processRecord(r));
      outcomes.forEach((o, i) => {
        expect(['launched', 'skipped', 'retry', 'dead-lettered']).toContain(o.status);
        if (o.status !== 'launched') expect((o as any).reason.length).toBeGreaterThan(5);
        const dl = deadLetters.filter((d) => d.MessageAttributes['hc-message-id'].StringValue === records[i].messageId
          && d.MessageBody === (records[i].body === '' ? '(empty body)' : records[i].body));
        if (o.status === 'dead-lettered') {
          expect(dl.length).toBeGreaterThanOrEqual(1);
          expect(dl[0].MessageAttributes['hc-reason'].StringValue).toBe((o as any).reason);
        }
        // a retried record is retried only before its last receive
        if (o.status === 'retry') expect(Number(records[i].attributes!.ApproximateReceiveCount)).toBeLessThan(5);
      });
      expect(deadLetters).toHaveLength(outcomes.filter((o) => o.status === 'dead-lettered').length);
      const response = await dispatcher.handle({ Records: records }, { deadline: Date.now() });
      const ids = new Set(records.map((r) => r.messageId));
      for (const f of response.batchItemFailures) expect(ids.has(f.itemIdentifier)).toBe(true);
    }), { numRuns: 300 });
  });

  test('malformed events and batches are answered, not thrown', async () => {
    const dispatcher = dispatcherFor(config(), { ecs: {} as any, sendMessage: async () => 'x', log: () => undefined, metrics: false });
    for (const event of [undefined, null, {}, { Records: null }, { Records: 'x' }, { Records: [] }]) {
      await expect(dispatcher.handle(event as any)).resolves.toEqual({ batchItemFailures: [] });
    }
  });
});
