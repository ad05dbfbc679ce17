import { createHash } from 'crypto';
import { ECSClient, RunTaskCommand, RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DISPATCH_CONFIG_VERSION, DispatchConfig, DLQ_ATTR_MESSAGE_ID, DLQ_ATTR_REASON, DLQ_ATTR_RECEIVE_COUNT,
  DLQ_ATTR_SOURCE, QueueConfig, TAG_ATTEMPT, TAG_DISPATCHER, TAG_JOB_ID,
} from '../dispatch-config';
import { buildOverrides } from './input-mapping';
import { normalizeRecord, truncate } from './normalize';
import { BatchResponse, Job, PermanentError, SqsEvent, SqsRecord } from './types';

export type LogFn = (level: 'INFO' | 'WARN' | 'ERROR', message: string, fields?: Record<string, unknown>) => void;

/** Structured JSON log lines on stdout, one per call. */
export const jsonLog: LogFn = (level, message, fields = {}) => {
  console.log(JSON.stringify({ level, message, ...fields }));
};

/** What became of one SQS record. */
export type RecordOutcome =
  | { readonly status: 'launched'; readonly jobs: string[] }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'retry'; readonly reason: string }
  | { readonly status: 'dead-lettered'; readonly reason: string };

/** A launch that did not happen but may on a later delivery. */
class RetryableError extends Error {}

/**
 * The deterministic RunTask client token of attempt `attempt` of a job:
 * 64 hex characters, scoped by task-definition family so that two jobs
 * triggered by the same event on one cluster never collide.
 */
export function clientToken(family: string, jobId: string, attempt: number): string {
  return createHash('sha256').update(`${family}\n${jobId}\n${attempt}`, 'utf8').digest('hex');
}

/** Validates the config the construct rendered; a bad config is a deployment bug. */
export function parseConfig(text: string | undefined): DispatchConfig {
  if (!text) {
    throw new Error('dispatcher config is missing: the HC_DISPATCH_CONFIG environment variable is not set');
  }
  const config = JSON.parse(text) as DispatchConfig;
  if (config.version !== DISPATCH_CONFIG_VERSION) {
    throw new Error(`dispatcher config version ${config.version} is not supported (expected ${DISPATCH_CONFIG_VERSION})`);
  }
  for (const key of ['startedBy', 'deadLetterQueueUrl', 'queues', 'job'] as const) {
    if (!config[key]) throw new Error(`dispatcher config has no '${key}'`);
  }
  if (!Array.isArray(config.queues)) {
    throw new Error('dispatcher config queues must be a list');
  }
  return config;
}

export class Dispatcher {
  private readonly queues: ReadonlyMap<string, QueueConfig>;

  constructor(
    private readonly config: DispatchConfig,
    private readonly ecs: ECSClient,
    private readonly sqs: SQSClient,
    private readonly log: LogFn = jsonLog,
  ) {
    this.queues = new Map(config.queues.map((q) => [q.arn, q]));
  }

  /** Handles one SQS batch; returns exactly the records that must be retried. */
  public async handle(event: SqsEvent): Promise<BatchResponse> {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const outcomes = await mapLimit(records, this.config.launchConcurrency, (r) => this.processRecord(r));
    const batchItemFailures = records
      .filter((_, i) => outcomes[i].status === 'retry')
      .map((r) => ({ itemIdentifier: r.messageId }));
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
    this.log('INFO', 'batch done', { records: records.length, ...counts });
    return { batchItemFailures };
  }

  /** Never throws: every record ends launched, skipped, retried or dead-lettered. */
  public async processRecord(record: SqsRecord): Promise<RecordOutcome> {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
    let reason: string;
    try {
      return await this.dispatchRecord(record);
    } catch (e) {
      reason = errorText(e);
      if (!(e instanceof PermanentError)) {
        if (receiveCount < this.config.maxReceiveCount) {
          this.log('WARN', 'launch failed, will retry', { messageId: record.messageId, receiveCount, reason });
          return { status: 'retry', reason };
        }
        // Last delivery before SQS would redrive it without a reason: dead-letter it ourselves.
        reason = `launch still failing after ${receiveCount} receives: ${reason}`;
      }
    }
    return this.deadLetter(record, reason, receiveCount);
  }

  private async dispatchRecord(record: SqsRecord): Promise<RecordOutcome> {
    const queue = this.queues.get(record.eventSourceARN);
    if (!queue) {
      throw new PermanentError(`record comes from '${record.eventSourceARN}', which is not a source of this dispatcher`);
    }
    const normalized = normalizeRecord(record, queue);
    if (normalized.kind === 'skip') {
      this.log('INFO', 'record skipped', { messageId: record.messageId, reason: normalized.reason });
      return { status: 'skipped', reason: normalized.reason };
    }
    // Resolve every job first so that a permanent error dead-letters the record
    // before any of its jobs launches.
    const launches = normalized.jobs.map((job) => ({ job, input: this.runTaskInput(job, 1) }));
    const results = await Promise.allSettled(launches.map(({ job, input }) => this.launch(job, input)));
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`job ${launches[i].job.id}: ${errorText(r.reason)}`] : []);
    if (failed.length > 0) {
      throw new RetryableError(failed.join('; '));
    }
    return { status: 'launched', jobs: launches.map((l) => l.job.id) };
  }

  /** The exact RunTask input for attempt `attempt` of `job`. */
  public runTaskInput(job: Job, attempt: number): RunTaskCommandInput {
    const c = this.config.job;
    const overrides = buildOverrides(c, job);
    return {
      cluster: c.cluster,
      taskDefinition: c.taskDefinition,
      count: 1,
      ...(c.capacityProviderStrategy ? { capacityProviderStrategy: c.capacityProviderStrategy } : { launchType: c.launchType ?? 'FARGATE' }),
      ...(c.platformVersion ? { platformVersion: c.platformVersion } : {}),
      networkConfiguration: {
        awsvpcConfiguration: { subnets: c.subnets, securityGroups: c.securityGroups, assignPublicIp: 'DISABLED' },
      },
      ...(overrides ? { overrides } : {}),
      clientToken: clientToken(c.family, job.id, attempt),
      startedBy: this.config.startedBy,
      tags: [
        { key: TAG_JOB_ID, value: job.id },
        { key: TAG_DISPATCHER, value: this.config.startedBy },
        { key: TAG_ATTEMPT, value: String(attempt) },
      ],
    };
  }

  private async launch(job: Job, input: RunTaskCommandInput): Promise<void> {
    let response;
    try {
      response = await this.ecs.send(new RunTaskCommand(input));
    } catch (e) {
      if ((e as Error)?.name === 'ConflictException') {
        // Same token, different parameters: this job already launched with an
        // earlier task definition revision. Launching again would duplicate it.
        this.log('WARN', 'job already launched with other parameters', { jobId: job.id, clientToken: input.clientToken });
        return;
      }
      throw e;
    }
    const tasks = response.tasks ?? [];
    if (tasks.length === 0) {
      const failures = (response.failures ?? []).map((f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}`);
      throw new RetryableError(`RunTask started no task: ${failures.length ? failures.join(', ') : 'no failures reported'}`);
    }
    this.log('INFO', 'job launched', { jobId: job.id, taskArn: tasks[0].taskArn, clientToken: input.clientToken });
  }

  private async deadLetter(record: SqsRecord, reason: string, receiveCount: number): Promise<RecordOutcome> {
    const shortReason = truncate(reason, 1000);
    try {
      await this.sqs.send(new SendMessageCommand({
        QueueUrl: this.config.deadLetterQueueUrl,
        MessageBody: record.body === '' ? '(empty body)' : record.body,
        MessageAttributes: {
          [DLQ_ATTR_REASON]: { DataType: 'String', StringValue: shortReason },
          [DLQ_ATTR_SOURCE]: { DataType: 'String', StringValue: record.eventSourceARN || 'unknown' },
          [DLQ_ATTR_MESSAGE_ID]: { DataType: 'String', StringValue: record.messageId },
          [DLQ_ATTR_RECEIVE_COUNT]: { DataType: 'Number', StringValue: String(receiveCount) },
        },
      }));
    } catch (e) {
      // Not deleted from the source queue: SQS delivers it again (and redrives it).
      this.log('ERROR', 'dead-lettering failed, will retry', { messageId: record.messageId, reason: shortReason, error: errorText(e) });
      return { status: 'retry', reason: `dead-lettering failed: ${errorText(e)}` };
    }
    this.log('ERROR', 'record dead-lettered', { messageId: record.messageId, reason: shortReason });
    return { status: 'dead-lettered', reason: shortReason };
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    return e instanceof PermanentError || e instanceof RetryableError ? e.message : `${e.name}: ${e.message}`;
  }
  return String(e);
}

/** Maps with at most `limit` promises in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
