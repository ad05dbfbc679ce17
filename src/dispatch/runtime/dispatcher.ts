import { createHash } from 'crypto';
import { ECSClient, ListTasksCommand, RunTaskCommand, RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { emitMetrics, MetricValue } from '../../internal/runtime/emf';
import {
  DISPATCH_CONFIG_VERSION, DispatchConfig, DLQ_ATTR_MESSAGE_ID, JobLaunchConfig, MAX_EXECUTION_INPUT_BYTES, DLQ_ATTR_REASON, DLQ_ATTR_RECEIVE_COUNT,
  DLQ_ATTR_SOURCE, ENV_ATTEMPT, ENV_ENQUEUED_AT, ENV_JOB_ID, ENV_RUN, ENVELOPE_KEY, ENVELOPE_VERSION, QueueConfig,
  TAG_ATTEMPT, TAG_DISPATCHER, TAG_JOB_ID, TRACKING_ENV_RESERVE,
} from '../dispatch-config';
import { PreparedJob, prepareJob, TaskOverrides, withTrackingEnv } from './input-mapping';
import { normalizeRecord, truncate } from './normalize';
import type { PutObject } from './s3-put';
import { BatchResponse, Envelope, Job, PermanentError, SqsEvent, SqsRecord } from './types';

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
  | { readonly status: 'deferred'; readonly reason: string }
  | { readonly status: 'carried-over'; readonly reason: string }
  | { readonly status: 'dead-lettered'; readonly reason: string };

/** A launch that did not happen but may on a later delivery. */
class RetryableError extends Error {}

/** A record left in the queue because the running-task cap is reached. */
class DeferredError extends Error {}

/**
 * Starts an execution named `name` (Step Functions keeps names unique per
 * state machine for 90 days); resolves to 'already-started' when one of that
 * name exists.
 */
export type StartExecution = (stateMachineArn: string, name: string, input: string) => Promise<'started' | 'already-started'>;

/** The execution name of a job: deterministic, so a redelivered event cannot start a second execution. */
export function executionName(jobId: string): string {
  return `hc-${createHash('sha256').update(jobId, 'utf8').digest('hex')}`;
}

/** Options of one batch. */
export interface HandleOptions {
  /**
   * Epoch ms until which throttled launches are retried within the batch
   * (the Lambda deadline less a margin). @default now + 20 s
   */
  readonly deadline?: number;
}

const DEFAULT_BATCH_BUDGET_MS = 20_000;
const THROTTLE_BACKOFF_BASE_MS = 250;
const THROTTLE_BACKOFF_MAX_MS = 4_000;

/** Seconds a carried-over record waits in the dispatch queue before it is seen again. */
export const CARRY_OVER_DELAY_SECONDS = 60;

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
  for (const key of ['startedBy', 'deadLetterQueueUrl', 'dispatchQueueUrl', 'queues'] as const) {
    if (!config[key]) throw new Error(`dispatcher config has no '${key}'`);
  }
  if (!config.job === !config.workflow) {
    throw new Error("dispatcher config needs exactly one of 'job' and 'workflow'");
  }
  if (!Array.isArray(config.queues)) {
    throw new Error('dispatcher config queues must be a list');
  }
  return config;
}

/** The AWS calls the dispatcher makes. */
export interface DispatcherClients {
  readonly ecs: ECSClient;
  /** Created on first use: only dead-lettering and carry-over need it. */
  readonly sqs: () => SQSClient;
  /** Writes claim-check documents; required when the config has a claim check. */
  readonly putObject?: PutObject;
  /** Starts a workflow execution; required when the config has a workflow. */
  readonly startExecution?: StartExecution;
  readonly log?: LogFn;
  /** Set to false to skip the EMF metric lines (tests). @default true */
  readonly metrics?: boolean;
}

/** Which launch settings an attempt uses. */
export type CapacityChoice = 'primary' | 'on-demand';

/** Run and enqueue time of a launch, for the tracking entries. */
export interface LaunchContext {
  readonly run: number;
  readonly enqueuedAt?: number;
}

/** Tasks this invocation may still start under `maxConcurrentTasks`. */
export class LaunchBudget {
  constructor(private remaining: number) {}
  take(n: number): boolean {
    if (n > this.remaining) return false;
    this.remaining -= n;
    return true;
  }
  give(n: number): void {
    this.remaining += n;
  }
}

export class Dispatcher {
  private readonly queues: ReadonlyMap<string, QueueConfig>;
  /** Launch attempts of the current batch that started no task, by reason. */
  private readonly launchFailures = new Map<string, number>();
  /** Until when the current batch may keep retrying throttled launches (epoch ms). */
  private deadline = 0;
  private readonly log: LogFn;

  constructor(private readonly config: DispatchConfig, private readonly clients: DispatcherClients) {
    this.queues = new Map(config.queues.map((q) => [q.arn, q]));
    this.log = clients.log ?? jsonLog;
    if (config.claimCheck && !clients.putObject) {
      throw new Error('dispatcher config has a claim check but no putObject client was given');
    }
    if (config.workflow && !clients.startExecution) {
      throw new Error('dispatcher config has a workflow but no startExecution client was given');
    }
  }

  /** Handles one SQS batch; returns exactly the records that must be retried. */
  public async handle(event: SqsEvent, options: HandleOptions = {}): Promise<BatchResponse> {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    this.launchFailures.clear();
    this.deadline = options.deadline ?? Date.now() + DEFAULT_BATCH_BUDGET_MS;
    const budget = records.length > 0 ? await this.launchBudget() : undefined;
    const outcomes = await mapLimit(records, this.config.launchConcurrency, (r) => this.processRecord(r, budget));
    const batchItemFailures = records
      .filter((_, i) => outcomes[i].status === 'retry' || outcomes[i].status === 'deferred')
      .map((r) => ({ itemIdentifier: r.messageId }));
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
    this.log('INFO', 'batch done', { records: records.length, ...counts });
    this.emitBatchMetrics(records.length, outcomes);
    return { batchItemFailures };
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

  private countFailure(reason: string): void {
    this.launchFailures.set(reason, (this.launchFailures.get(reason) ?? 0) + 1);
  }

  /**
   * Never throws: every record ends launched, skipped, retried, deferred,
   * carried over or dead-lettered.
   */
  public async processRecord(record: SqsRecord, budget?: LaunchBudget | Error): Promise<RecordOutcome> {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
    const lastReceive = receiveCount >= this.config.maxReceiveCount;
    let reason: string;
    try {
      return await this.dispatchRecord(record, receiveCount, budget);
    } catch (e) {
      reason = errorText(e);
      if (e instanceof DeferredError) {
        if (!lastReceive) {
          return { status: 'deferred', reason };
        }
        return this.carryOver(record, reason);
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

  private async dispatchRecord(record: SqsRecord, receiveCount: number, budget?: LaunchBudget | Error): Promise<RecordOutcome> {
    const queue = this.queues.get(record.eventSourceARN);
    if (!queue) {
      throw new PermanentError(`record comes from '${record.eventSourceARN}', which is not a source of this dispatcher`);
    }
    const normalized = normalizeRecord(record, queue);
    if (normalized.kind === 'skip') {
      this.log('INFO', 'record skipped', { messageId: record.messageId, reason: normalized.reason });
      return { status: 'skipped', reason: normalized.reason };
    }
    if (this.config.workflow) {
      return this.startWorkflows(normalized.jobs);
    }
    // Resolve every job first so that a permanent error dead-letters the record
    // before any of its jobs launches. A relaunch comes with its overrides.
    const prepared = normalized.jobs.map((job) => ({
      job,
      prepared: normalized.overrides ? { overrides: normalized.overrides as TaskOverrides } : this.prepare(job),
    }));
    const sent = Number(record.attributes?.SentTimestamp);
    const context: LaunchContext = {
      run: normalized.run ?? 1,
      enqueuedAt: normalized.enqueuedAt ?? (Number.isFinite(sent) && sent > 0 ? sent : undefined),
    };
    if (budget instanceof Error) {
      throw new RetryableError(`cannot count the running tasks for maxConcurrentTasks: ${errorText(budget)}`);
    }
    if (budget && !budget.take(prepared.length)) {
      throw new DeferredError(`maxConcurrentTasks (${this.config.maxConcurrentTasks}) reached: record left in the queue`);
    }
    const results = await Promise.allSettled(prepared.map(async ({ job, prepared: p }) => {
      if (p.claimCheck) {
        await this.clients.putObject!(`${this.config.claimCheck!.endpoint}/${p.claimCheck.key}`, p.claimCheck.body);
      }
      return this.launchChain(job, normalized.attempt, receiveCount, p.overrides, context);
    }));
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`job ${prepared[i].job.id}: ${errorText(r.reason)}`] : []);
    if (failed.length > 0) {
      budget?.give(failed.length);
      throw new RetryableError(failed.join('; '));
    }
    return { status: 'launched', jobs: prepared.map((p) => p.job.id) };
  }

  /** One execution per job, named after the job id; an existing execution of that name means it started before. */
  private async startWorkflows(jobs: Job[]): Promise<RecordOutcome> {
    const arn = this.config.workflow!.stateMachineArn;
    const inputs = jobs.map((job) => {
      const input = JSON.stringify({ job: { id: job.id, source: job.source, fields: job.fields, event: job.event } });
      const size = Buffer.byteLength(input, 'utf8');
      if (size > MAX_EXECUTION_INPUT_BYTES) {
        throw new PermanentError(`workflow input is ${size} bytes, over the Step Functions limit of ${MAX_EXECUTION_INPUT_BYTES}: `
          + 'keep large payloads in S3 and send their URI');
      }
      return { job, input, name: executionName(job.id) };
    });
    const results = await Promise.allSettled(inputs.map(async ({ job, input, name }) => {
      const result = await this.clients.startExecution!(arn, name, input);
      this.log('INFO', result === 'started' ? 'workflow started' : 'workflow already started', { jobId: job.id, executionName: name });
    }));
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`job ${inputs[i].job.id}: ${errorText(r.reason)}`] : []);
    if (failed.length > 0) {
      this.countFailure('error');
      throw new RetryableError(failed.join('; '));
    }
    return { status: 'launched', jobs: jobs.map((j) => j.id) };
  }

  /** Overrides (and claim-check document) of a job; throws `PermanentError` when it can never launch. */
  public prepare(job: Job): PreparedJob {
    return prepareJob(this.jobConfig, job, this.config.claimCheck, this.config.tracking ? TRACKING_ENV_RESERVE : 0);
  }

  /** The exact RunTask input for attempt `attempt` of `job`. */
  public runTaskInput(job: Job, attempt: number, capacity: CapacityChoice = 'primary',
    mapped: TaskOverrides | undefined = this.prepare(job).overrides, context: LaunchContext = { run: 1 }): RunTaskCommandInput {
    const c = this.jobConfig;
    const overrides = this.config.tracking
      ? withTrackingEnv(mapped, c.containerName, {
        [ENV_JOB_ID]: job.id,
        [ENV_RUN]: String(context.run),
        [ENV_ATTEMPT]: String(attempt),
        ...(context.enqueuedAt !== undefined ? { [ENV_ENQUEUED_AT]: new Date(context.enqueuedAt).toISOString() } : {}),
      })
      : mapped;
    const placement = capacity === 'on-demand' || !c.capacityProviderStrategy
      ? { launchType: 'FARGATE' as const }
      : { capacityProviderStrategy: c.capacityProviderStrategy };
    return {
      cluster: c.cluster,
      taskDefinition: c.taskDefinition,
      count: 1,
      ...placement,
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

  /**
   * The attempts a delivery may make, in order: attempt `first + i` uses
   * capacity `capacityOf(i)`. Delivery n of a record walks the first n
   * steps (n x 2 with on-demand fallback): the earlier steps are replays
   * that ECS answers from its record of the token (the original task, or
   * the original failure), so a job launched by an earlier delivery is
   * found again instead of launched twice; the last steps are new tokens.
   */
  public attemptPlan(first: number, receiveCount: number): Array<{ attempt: number; capacity: CapacityChoice }> {
    const stride = this.jobConfig.fallbackToOnDemand ? 2 : 1;
    return Array.from({ length: stride * Math.max(1, receiveCount) }, (_, i) => ({
      attempt: first + i,
      capacity: stride === 2 && i % 2 === 1 ? 'on-demand' as const : 'primary' as const,
    }));
  }

  /** Launches the job, walking its token chain. */
  private async launchChain(job: Job, first: number, receiveCount: number, overrides: TaskOverrides | undefined,
    context: LaunchContext): Promise<void> {
    const failures: string[] = [];
    for (const step of this.attemptPlan(first, receiveCount)) {
      const input = this.runTaskInput(job, step.attempt, step.capacity, overrides, context);
      let failure: string | undefined;
      for (let throttled = 0; ; throttled++) {
        try {
          failure = await this.launch(job, input, step.attempt);
          break;
        } catch (e) {
          const name = (e as Error)?.name ?? '';
          this.countFailure(name === 'ThrottlingException' ? 'throttling' : name === 'TimeoutError' ? 'timeout' : 'error');
          // Throttling outlasting the SDK's retries: keep trying (same token) while the
          // invocation has time, rather than hiding the record for a whole visibility timeout.
          const wait = Math.min(THROTTLE_BACKOFF_MAX_MS, THROTTLE_BACKOFF_BASE_MS * 2 ** throttled) * (0.5 + Math.random() / 2);
          if (name !== 'ThrottlingException' || Date.now() + wait >= this.deadline) throw e;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      if (failure === undefined) return;
      this.countFailure(/capacity/i.test(failure) ? 'capacity' : 'no-task');
      failures.push(`attempt ${step.attempt} (${step.capacity}): ${failure}`);
    }
    throw new RetryableError(`RunTask started no task: ${failures[failures.length - 1]}`);
  }

  /** Launches one attempt; returns why it started no task, or undefined when it did. */
  private async launch(job: Job, input: RunTaskCommandInput, attempt: number): Promise<string | undefined> {
    let response;
    try {
      response = await this.clients.ecs.send(new RunTaskCommand(input));
    } catch (e) {
      if ((e as Error)?.name === 'ConflictException') {
        // Same token, different parameters: this job already launched with an
        // earlier task definition revision. Launching again would duplicate it.
        this.log('WARN', 'job already launched with other parameters', { jobId: job.id, attempt, clientToken: input.clientToken });
        return undefined;
      }
      throw e;
    }
    const tasks = response.tasks ?? [];
    const failures = (response.failures ?? []).map((f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}`);
    if (tasks.length === 0) {
      return failures.length ? failures.join(', ') : 'no failures reported';
    }
    this.log('INFO', 'job launched', {
      jobId: job.id,
      attempt,
      taskArn: tasks[0].taskArn,
      clientToken: input.clientToken,
      ...(failures.length ? { failures } : {}),
    });
    return undefined;
  }

  private get jobConfig(): JobLaunchConfig {
    if (!this.config.job) throw new Error('this dispatcher starts workflows: it has no job to launch');
    return this.config.job;
  }

  /** Counts the tasks this dispatcher started that have not stopped yet. */
  private async launchBudget(): Promise<LaunchBudget | Error | undefined> {
    const cap = this.config.maxConcurrentTasks;
    if (cap === undefined) return undefined;
    let running = 0;
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.clients.ecs.send(new ListTasksCommand({
          cluster: this.jobConfig.cluster,
          startedBy: this.config.startedBy,
          desiredStatus: 'RUNNING',
          maxResults: 100,
          nextToken,
        }));
        running += page.taskArns?.length ?? 0;
        nextToken = page.nextToken;
      } while (nextToken && running < cap);
    } catch (e) {
      this.log('WARN', 'cannot count running tasks', { error: errorText(e) });
      return e instanceof Error ? e : new Error(String(e));
    }
    return new LaunchBudget(Math.max(0, cap - running));
  }

  /**
   * A record deferred on its last receive would be redriven by SQS without a
   * reason: it goes back into the dispatch queue as a new message (its jobs,
   * already normalized, with their ids), so its receive count starts over.
   */
  private async carryOver(record: SqsRecord, reason: string): Promise<RecordOutcome> {
    let envelope: Envelope;
    try {
      const queue = this.queues.get(record.eventSourceARN)!;
      const normalized = normalizeRecord(record, queue);
      if (normalized.kind === 'skip') return { status: 'skipped', reason: normalized.reason };
      const sent = Number(record.attributes?.SentTimestamp);
      const enqueuedAt = normalized.enqueuedAt ?? (Number.isFinite(sent) && sent > 0 ? sent : undefined);
      envelope = {
        version: ENVELOPE_VERSION,
        ...(normalized.overrides
          ? { relaunch: { jobId: normalized.jobs[0].id, run: normalized.run ?? 1, overrides: normalized.overrides } }
          : { jobs: normalized.jobs }),
        attempt: normalized.attempt,
        ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
        reason,
      };
      await this.clients.sqs().send(new SendMessageCommand({
        QueueUrl: this.config.dispatchQueueUrl,
        MessageBody: JSON.stringify({ [ENVELOPE_KEY]: envelope }),
        DelaySeconds: CARRY_OVER_DELAY_SECONDS,
      }));
    } catch (e) {
      this.log('ERROR', 'carry-over failed, will retry', { messageId: record.messageId, error: errorText(e) });
      return { status: 'retry', reason: `carry-over failed: ${errorText(e)}` };
    }
    this.log('INFO', 'record carried over', {
      messageId: record.messageId, jobs: envelope.jobs?.map((j) => j.id) ?? [envelope.relaunch!.jobId], reason,
    });
    return { status: 'carried-over', reason };
  }

  private async deadLetter(record: SqsRecord, reason: string, receiveCount: number): Promise<RecordOutcome> {
    const shortReason = truncate(reason, 1000);
    try {
      await this.clients.sqs().send(new SendMessageCommand({
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
    return e instanceof PermanentError || e instanceof RetryableError || e instanceof DeferredError ? e.message : `${e.name}: ${e.message}`;
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
