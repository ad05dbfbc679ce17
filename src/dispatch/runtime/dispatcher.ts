import { ContinuationError, DeferredError, isDispatchError, PermanentError } from './errors';
import type { BatchContext, Launcher } from './launcher';
import { messageAttribute, normalizeRecord, truncate } from './normalize';
import { DISPATCH_CONFIG_VERSION, DispatchConfig, QueueConfig } from '../../contract/dispatch-config';
import { ENVELOPE_KEY, ENVELOPE_VERSION, Envelope } from '../../contract/job';
import {
  DISPATCH_CONFIG_ENV, DLQ_ATTR_MESSAGE_ID, DLQ_ATTR_REASON, DLQ_ATTR_RECEIVE_COUNT, DLQ_ATTR_SOURCE,
} from '../../contract/names';
import { parseHandlerConfig } from '../../internal/runtime/config';
import { emitMetrics, MetricValue } from '../../internal/runtime/emf';
import { errorText as baseErrorText, jsonLog, LogFn } from '../../internal/runtime/log';
import { mapLimit } from '../../internal/runtime/map-limit';
import { BatchResponse, receiveCountOf, recordsOf, sentTimestampOf, SqsEvent, SqsRecord } from '../../internal/runtime/sqs';
import type { SendMessage } from '../../internal/runtime/sqs-send';

/** What became of one SQS record. */
export type RecordOutcome =
  | { readonly status: 'launched'; readonly jobs: string[] }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'retry'; readonly reason: string }
  | { readonly status: 'deferred'; readonly reason: string }
  | { readonly status: 'carried-over'; readonly reason: string }
  | { readonly status: 'dead-lettered'; readonly reason: string };

/** Options of one batch. */
export interface HandleOptions {
  /**
   * Epoch ms until which throttled launches are retried within the batch
   * (the Lambda deadline less a margin). @default now + 20 s
   */
  readonly deadline?: number;
}

const DEFAULT_BATCH_BUDGET_MS = 20_000;

/** Seconds a carried-over record waits in the dispatch queue before it is seen again. */
export const CARRY_OVER_DELAY_SECONDS = 60;

/** A record deferred for longer than this since it was first enqueued is dead-lettered, not carried over again. */
export const MAX_CARRY_OVER_AGE_MS = 24 * 3600 * 1000;

/** SQS's message size limit (the classic 256 KiB; larger messages are not carried over). */
export const MAX_MESSAGE_BYTES = 262_144;

/** Validates the config the construct rendered; a bad config is a deployment bug. */
export function parseConfig(text: string | undefined): DispatchConfig {
  const config = parseHandlerConfig<DispatchConfig>('dispatcher', DISPATCH_CONFIG_ENV, text, DISPATCH_CONFIG_VERSION,
    ['startedBy', 'deadLetterQueueUrl', 'dispatchQueueUrl', 'queues', 'target']);
  if (!Array.isArray(config.queues)) {
    throw new Error('dispatcher config queues must be a list');
  }
  if (!['fargateJob', 'workflow', 'route'].includes(config.target.kind)) {
    throw new Error(`dispatcher config target kind '${(config.target as { kind?: string }).kind}' is not supported`);
  }
  return config;
}

/** The AWS calls the record bookkeeping makes. */
export interface DispatcherClients {
  /** SQS SendMessage: dead-lettering and carry-over. */
  readonly sendMessage: SendMessage;
  readonly log?: LogFn;
  /** Set to false to skip the EMF metric lines (tests). @default true */
  readonly metrics?: boolean;
}

const errorText = (e: unknown) => baseErrorText(e, isDispatchError);

/**
 * The record bookkeeping of every dispatcher: normalizes each SQS record into
 * jobs, hands them to the target's launcher, and makes sure every record ends
 * launched, skipped, retried (a batch item failure), deferred, carried over
 * or dead-lettered with its reason.
 */
export class Dispatcher {
  private readonly queues: ReadonlyMap<string, QueueConfig>;
  /** Launch attempts of the current batch that started nothing, by reason. */
  private readonly launchFailures = new Map<string, number>();
  private readonly log: LogFn;

  constructor(private readonly config: DispatchConfig, public readonly launcher: Launcher, private readonly clients: DispatcherClients) {
    this.queues = new Map(config.queues.map((q) => [q.arn, q]));
    this.log = clients.log ?? jsonLog;
  }

  /** Handles one SQS batch; returns exactly the records that must be retried. */
  public async handle(event: SqsEvent, options: HandleOptions = {}): Promise<BatchResponse> {
    const records = recordsOf(event);
    this.launchFailures.clear();
    const context = this.batchContext(options.deadline ?? Date.now() + DEFAULT_BATCH_BUDGET_MS);
    if (records.length > 0) await this.launcher.beginBatch?.(context);
    const outcomes = await mapLimit(records, this.config.launchConcurrency, (r) => this.processRecord(r, context));
    const batchItemFailures = records
      .filter((_, i) => outcomes[i].status === 'retry' || outcomes[i].status === 'deferred')
      .map((r) => ({ itemIdentifier: r.messageId }));
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
    this.log('INFO', 'batch done', { records: records.length, ...counts });
    this.emitBatchMetrics(records.length, outcomes);
    return { batchItemFailures };
  }

  private batchContext(deadline: number): BatchContext {
    return {
      deadline,
      log: this.log,
      countFailure: (reason) => this.launchFailures.set(reason, (this.launchFailures.get(reason) ?? 0) + 1),
    };
  }

  private emitBatchMetrics(records: number, outcomes: RecordOutcome[]): void {
    if (records === 0 || this.clients.metrics === false) return;
    const sum = (f: (o: RecordOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
    const metrics: MetricValue[] = [
      { name: 'RecordsReceived', value: records, unit: 'Count' },
      { name: 'JobsLaunched', value: sum((o) => (o.status === 'launched' ? o.jobs.length : 0)), unit: 'Count' },
      { name: 'RecordsDeadLettered', value: sum((o) => (o.status === 'dead-lettered' ? 1 : 0)), unit: 'Count' },
      { name: 'RecordsDeferred', value: sum((o) => (o.status === 'deferred' || o.status === 'carried-over' ? 1 : 0)), unit: 'Count' },
    ];
    emitMetrics({ Dispatcher: this.config.startedBy }, [['Dispatcher']], metrics);
    // One line per reason: each adds to the total and to its own series.
    for (const [reason, count] of [...this.launchFailures.entries()].sort()) {
      emitMetrics({ Dispatcher: this.config.startedBy, Reason: reason }, [['Dispatcher'], ['Dispatcher', 'Reason']],
        [{ name: 'LaunchFailures', value: count, unit: 'Count' }]);
    }
  }

  /**
   * Never throws: every record ends launched, skipped, retried, deferred,
   * carried over or dead-lettered.
   */
  public async processRecord(record: SqsRecord,
    context: BatchContext = this.batchContext(Date.now() + DEFAULT_BATCH_BUDGET_MS)): Promise<RecordOutcome> {
    const receiveCount = receiveCountOf(record);
    // A source queue with its own redrive policy moves the record on its own maxReceiveCount.
    const lastReceive = receiveCount >= (this.queues.get(record.eventSourceARN)?.maxReceiveCount ?? this.config.maxReceiveCount);
    let reason: string;
    try {
      return await this.dispatchRecord(record, receiveCount, context);
    } catch (e) {
      reason = errorText(e);
      if (e instanceof ContinuationError) {
        return this.carryOver(record, reason, receiveCount, 0, e.progressAt);
      }
      if (e instanceof DeferredError) {
        if (!lastReceive) {
          return { status: 'deferred', reason };
        }
        return this.carryOver(record, reason, receiveCount, CARRY_OVER_DELAY_SECONDS, e.progressAt);
      }
      if (!(e instanceof PermanentError)) {
        if (!lastReceive) {
          this.log('WARN', 'launch failed, will retry', { messageId: record.messageId, receiveCount, reason });
          return { status: 'retry', reason };
        }
        // Last delivery before SQS would redrive it without a reason: dead-letter it ourselves.
        reason = `launch still failing after ${receiveCount} receives: ${reason}`;
      }
    }
    return this.deadLetter(record, reason, receiveCount);
  }

  private async dispatchRecord(record: SqsRecord, receiveCount: number, context: BatchContext): Promise<RecordOutcome> {
    const queue = this.queues.get(record.eventSourceARN);
    if (!queue) {
      throw new PermanentError(`record comes from '${record.eventSourceARN}', which is not a source of this dispatcher`);
    }
    const normalized = normalizeRecord(record, queue, this.queues);
    if (normalized.kind === 'skip') {
      this.log('INFO', 'record skipped', { messageId: record.messageId, reason: normalized.reason });
      return { status: 'skipped', reason: normalized.reason };
    }
    if (normalized.kind === 'lambda-outcome') {
      if (!this.launcher.settle) {
        throw new PermanentError('a Lambda invocation record reached a dispatcher that routes no jobs to Lambda');
      }
      const settled = await this.launcher.settle(normalized.invocation, record, receiveCount, normalized.redriven, context);
      return settled.status === 'launched' ? { status: 'launched', jobs: settled.jobs ?? [] } : { status: 'skipped', reason: settled.reason };
    }
    const jobs = await this.launcher.launch({
      record,
      jobs: normalized.jobs,
      attempt: normalized.attempt,
      receiveCount,
      run: normalized.run ?? 1,
      overrides: normalized.overrides,
      enqueuedAt: normalized.enqueuedAt ?? sentTimestampOf(record),
    }, context);
    return { status: 'launched', jobs };
  }

  /**
   * A record deferred on its last receive would be redriven by SQS without a
   * reason: it goes back into the dispatch queue as a new message, so its
   * receive count starts over — its jobs (already normalized, same ids) in an
   * envelope, or, for a message of an `SqsSource` queue, the message itself
   * with `hc-source-arn` and `hc-message-id` (its body is not stored twice).
   * An array job that launched part of its children continues at once (no delay).
   * Bounded: a record deferred for more than 24 hours, or too large to
   * carry, is dead-lettered with the reason.
   */
  private async carryOver(record: SqsRecord, reason: string, receiveCount: number,
    delaySeconds = CARRY_OVER_DELAY_SECONDS, progressAt?: number): Promise<RecordOutcome> {
    let sent: { body: string; attributes?: Record<string, { DataType: string; StringValue: string }>; jobs: string[] };
    try {
      const queue = this.queues.get(record.eventSourceARN)!;
      const normalized = normalizeRecord(record, queue, this.queues);
      if (normalized.kind === 'skip') return { status: 'skipped', reason: normalized.reason };
      if (normalized.kind === 'lambda-outcome') {
        const endedAt = Date.parse(normalized.invocation.timestamp ?? '');
        if (Number.isFinite(endedAt) && Date.now() - endedAt > MAX_CARRY_OVER_AGE_MS) {
          return await this.deadLetter(record, `${reason}; the run ended more than 24 hours ago: not carried over again`, receiveCount);
        }
        // Spilling over found no room: the record itself goes back (its settling is idempotent).
        sent = { body: record.body, jobs: [normalized.invocation.requestPayload.hc.jobId] };
        await this.clients.sendMessage({ QueueUrl: this.config.dispatchQueueUrl, MessageBody: sent.body, DelaySeconds: CARRY_OVER_DELAY_SECONDS });
        this.log('INFO', 'record carried over', { messageId: record.messageId, jobs: sent.jobs, reason });
        return { status: 'carried-over', reason };
      }
      const enqueuedAt = normalized.enqueuedAt ?? sentTimestampOf(record);
      // Bounded from the last progress (an array job's cursor), or else from the first enqueue.
      const since = Math.max(enqueuedAt ?? 0, progressAt ?? 0);
      if (since > 0 && Date.now() - since > MAX_CARRY_OVER_AGE_MS) {
        return await this.deadLetter(record, `${reason}; deferred for more than 24 hours since it was ${progressAt ? 'last moved on' : 'enqueued'}: `
          + 'not carried over again', receiveCount);
      }
      const sourceArn = queue.dispatchQueue ? messageAttribute(record, DLQ_ATTR_SOURCE) : record.eventSourceARN;
      const source = sourceArn ? this.queues.get(sourceArn) : undefined;
      if (source && !source.dispatchQueue) {
        sent = {
          body: record.body,
          attributes: {
            [DLQ_ATTR_SOURCE]: { DataType: 'String', StringValue: source.arn },
            [DLQ_ATTR_MESSAGE_ID]: { DataType: 'String', StringValue: messageAttribute(record, DLQ_ATTR_MESSAGE_ID) ?? record.messageId },
          },
          jobs: normalized.jobs.map((j) => j.id),
        };
      } else {
        const envelope: Envelope = {
          version: ENVELOPE_VERSION,
          ...(normalized.overrides
            ? { relaunch: { jobId: normalized.jobs[0].id, run: normalized.run ?? 1, overrides: normalized.overrides } }
            : { jobs: normalized.jobs }),
          attempt: normalized.attempt,
          ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
          reason,
        };
        sent = { body: JSON.stringify({ [ENVELOPE_KEY]: envelope }), jobs: normalized.jobs.map((j) => j.id) };
      }
      const size = Buffer.byteLength(sent.body, 'utf8');
      if (size > MAX_MESSAGE_BYTES) {
        return await this.deadLetter(record, `${reason}; its carry-over message would be ${size} bytes, over the SQS limit of ${MAX_MESSAGE_BYTES}`, receiveCount);
      }
      await this.clients.sendMessage({
        QueueUrl: this.config.dispatchQueueUrl,
        MessageBody: sent.body,
        ...(sent.attributes ? { MessageAttributes: sent.attributes } : {}),
        DelaySeconds: delaySeconds,
      });
    } catch (e) {
      this.log('ERROR', 'carry-over failed, will retry', { messageId: record.messageId, error: errorText(e) });
      return { status: 'retry', reason: `carry-over failed: ${errorText(e)}` };
    }
    this.log('INFO', 'record carried over', { messageId: record.messageId, jobs: sent.jobs, reason });
    return { status: 'carried-over', reason };
  }

  private async deadLetter(record: SqsRecord, reason: string, receiveCount: number): Promise<RecordOutcome> {
    const shortReason = truncate(reason, 1000);
    try {
      await this.clients.sendMessage({
        QueueUrl: this.config.deadLetterQueueUrl,
        MessageBody: record.body === '' ? '(empty body)' : record.body,
        MessageAttributes: {
          [DLQ_ATTR_REASON]: { DataType: 'String', StringValue: shortReason },
          // A copy (moved back, or carried over) keeps naming its original queue and message.
          [DLQ_ATTR_SOURCE]: { DataType: 'String', StringValue: messageAttribute(record, DLQ_ATTR_SOURCE) ?? (record.eventSourceARN || 'unknown') },
          [DLQ_ATTR_MESSAGE_ID]: { DataType: 'String', StringValue: messageAttribute(record, DLQ_ATTR_MESSAGE_ID) ?? record.messageId },
          [DLQ_ATTR_RECEIVE_COUNT]: { DataType: 'Number', StringValue: String(receiveCount) },
        },
      });
    } catch (e) {
      // Not deleted from the source queue: SQS delivers it again (and redrives it).
      this.log('ERROR', 'dead-lettering failed, will retry', { messageId: record.messageId, reason: shortReason, error: errorText(e) });
      return { status: 'retry', reason: `dead-lettering failed: ${errorText(e)}` };
    }
    this.log('ERROR', 'record dead-lettered', { messageId: record.messageId, reason: shortReason });
    return { status: 'dead-lettered', reason: shortReason };
  }
}

/** The part of Lambda's context the handlers read. */
export interface LambdaContext {
  getRemainingTimeInMillis?: () => number;
}

/** Time kept back from the Lambda deadline for dead-lettering and the response. */
const DEADLINE_MARGIN_MS = 10_000;

/** A dispatcher as a Lambda handler: each batch's deadline is the invocation's, less the margin. */
export function lambdaHandler(dispatcher: Dispatcher): (event: SqsEvent, context?: LambdaContext) => Promise<BatchResponse> {
  return (event, context) => dispatcher.handle(event, context?.getRemainingTimeInMillis
    ? { deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS }
    : {});
}
