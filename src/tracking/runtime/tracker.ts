import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { classify, Classification } from './classify';
import { reasonsOf, retryDecision } from './retry';
import {
  fargateJobCost, LAMBDA_MAX_DURATION_MS, LAMBDA_MAX_MEMORY_MIB, LAMBDA_MIN_MEMORY_MIB, lambdaJobCost,
} from '../../contract/compute-pricing';
import { ENVELOPE_KEY, ENVELOPE_VERSION, Envelope, JobOutcome } from '../../contract/job';
import { JobStatus, ledgerKey, LedgerRecord } from '../../contract/ledger';
import {
  DETAIL_TYPE_ARRAY_COMPLETED, DETAIL_TYPE_FAILED, DETAIL_TYPE_SUCCEEDED, ENV_ARRAY_INDEX, ENV_ARRAY_JOB_ID, ENV_ATTEMPT, ENV_ENQUEUED_AT,
  ENV_JOB_ID, ENV_RUN, EVENT_SOURCE, START_TIMEOUT_REASON_PREFIX,
  TIMEOUT_REASON_PREFIX,
  TRACKER_CONFIG_ENV, TRACKING_ENV,
} from '../../contract/names';
import { TRACKER_CONFIG_VERSION, TrackerConfig } from '../../contract/tracker-config';
import { CompletionCheck, completeArrayIfDone } from '../../internal/runtime/array-completion';
import { parseHandlerConfig } from '../../internal/runtime/config';
import { emitMetrics, MetricValue } from '../../internal/runtime/emf';
import type { JobLedgerStore } from '../../internal/runtime/ledger';
import { errorText, jsonLog, LogFn } from '../../internal/runtime/log';
import { BatchResponse, recordsOf, SqsEvent, SqsRecord } from '../../internal/runtime/sqs';

export interface TrackerClients {
  readonly ecs: ECSClient;
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  /** The job ledger (outcomes, once per task). */
  readonly ledger: JobLedgerStore;
  readonly log?: LogFn;
  /** @default true */
  readonly metrics?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What the tracker did with one stopped task. */
export interface TaskResult {
  readonly jobId: string;
  readonly run: number;
  readonly attempt: number;
  readonly classification: Classification;
  /** 'retried' (re-enqueued for run + 1), 'failed' (sent to the failed-jobs queue) or 'succeeded'. */
  readonly action: 'succeeded' | 'retried' | 'failed';
  /** The task's outcome was recorded by an earlier event: this one only finished what was left. */
  readonly repeated: boolean;
}

/** The message the failed-jobs queue receives: an envelope the dispatch queue accepts as is, plus the failure. */
export interface FailedJobMessage {
  readonly [ENVELOPE_KEY]: Envelope;
  readonly failure: {
    readonly jobId: string;
    readonly outcome: JobOutcome;
    readonly reason: string;
    readonly exitCode?: number;
    /** The retry rule that decided to give up, when one matched. */
    readonly retryRule?: string;
    readonly taskArn: string;
    readonly cluster: string;
    readonly run: number;
    readonly attempt: number;
    readonly stoppedAt?: string;
  };
}

/**
 * Estimated dollars of a stopped task (billed from the image pull to the
 * stop, at least a minute; Spot at its discount), and what its run would
 * have cost on Lambda (the task's memory, arm64; none over Lambda's 900 s).
 * Undefined when the event lacks the sizes or times.
 */
export function taskCosts(detail: any): { fargate: number; lambda?: number } | undefined {
  const start = Date.parse(detail?.pullStartedAt ?? detail?.createdAt ?? '');
  const runStart = Date.parse(detail?.startedAt ?? '');
  const stop = Date.parse(detail?.stoppedAt ?? '');
  const cpuUnits = Number(detail?.cpu);
  const memoryMiB = Number(detail?.memory);
  if (![start, runStart, stop, cpuUnits, memoryMiB].every(Number.isFinite) || stop < runStart || runStart < start) return undefined;
  const arm64 = (detail.attributes ?? []).some((a: any) => a?.name === 'ecs.cpu-architecture' && a?.value === 'arm64');
  const spot = detail.capacityProviderName === 'FARGATE_SPOT';
  try {
    const runMs = stop - runStart;
    const fargate = fargateJobCost({ cpuUnits, memoryMiB, arm64, spot: spot && !arm64, startupMs: runStart - start, durationMs: runMs }).dollars;
    const lambdaMemory = Math.min(LAMBDA_MAX_MEMORY_MIB, Math.max(LAMBDA_MIN_MEMORY_MIB, memoryMiB));
    const lambda = runMs <= LAMBDA_MAX_DURATION_MS
      ? lambdaJobCost({ memoryMiB: lambdaMemory, arm64: true, durationMs: runMs }).dollars
      : undefined;
    return { fargate, ...(lambda !== undefined ? { lambda } : {}) };
  } catch {
    return undefined;
  }
}

export function parseTrackerConfig(text: string | undefined): TrackerConfig {
  return parseHandlerConfig<TrackerConfig>('tracker', TRACKER_CONFIG_ENV, text, TRACKER_CONFIG_VERSION,
    ['startedBy', 'cluster', 'containerName', 'failedJobsQueueUrl', 'eventBusName']);
}

/** The tracking entries of the job's container in a task's overrides. */
export function trackingEntries(overrides: any, containerName: string): Record<string, string> {
  return containerEntries(overrides, containerName, TRACKING_ENV);
}

/** The environment entries `names` of the job's container in a task's overrides. */
function containerEntries(overrides: any, containerName: string, names: readonly string[]): Record<string, string> {
  const container = (overrides?.containerOverrides ?? []).find((c: any) => c?.name === containerName);
  const entries: Record<string, string> = {};
  for (const e of container?.environment ?? []) {
    if (names.includes(e?.name) && typeof e.value === 'string') entries[e.name] = e.value;
  }
  return entries;
}

/** An array job's child, as its task's overrides say. */
export interface ArrayChildEntries {
  readonly arrayJobId: string;
  readonly index: number;
}

/** The array entries of the job's container (undefined: not a child of an array job). */
export function arrayChildOf(overrides: any, containerName: string): ArrayChildEntries | undefined {
  const env = containerEntries(overrides, containerName, [ENV_ARRAY_JOB_ID, ENV_ARRAY_INDEX]);
  const arrayJobId = env[ENV_ARRAY_JOB_ID];
  const index = Number(env[ENV_ARRAY_INDEX]);
  return arrayJobId && Number.isInteger(index) && index >= 0 ? { arrayJobId, index } : undefined;
}

/** The overrides without the tracking entries (the dispatcher sets fresh ones). */
function mappedOverrides(overrides: any): { containerOverrides: any[] } {
  return {
    containerOverrides: (overrides?.containerOverrides ?? []).map((c: any) => ({
      ...c,
      ...(c.environment ? { environment: c.environment.filter((e: any) => !TRACKING_ENV.includes(e?.name)) } : {}),
    })),
  };
}

const seconds = (from?: string | number, to?: string | number) => {
  const a = from === undefined ? NaN : new Date(from).getTime();
  const b = to === undefined ? NaN : new Date(to).getTime();
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, (b - a) / 1000) : undefined;
};

/**
 * Closes the loop after launch: for every stopped task of the dispatcher,
 * classifies the outcome, re-enqueues a retryable job with its next run (the
 * dispatcher's token chain keeps the relaunch unique), sends a job that is
 * done failing to the failed-jobs queue, publishes `Job Succeeded` /
 * `Job Failed`, and emits metrics. On a schedule it stops tasks that outlive
 * the job's timeout.
 */
export class Tracker {
  private readonly log: LogFn;
  private readonly now: () => number;

  constructor(private readonly config: TrackerConfig, private readonly clients: TrackerClients) {
    this.log = clients.log ?? jsonLog;
    this.now = clients.now ?? Date.now;
  }

  /** One batch of the tracker queue: task state changes and timeout sweeps. */
  public async handle(event: SqsEvent): Promise<BatchResponse> {
    const records = recordsOf(event);
    const failures: Array<{ itemIdentifier: string }> = [];
    for (const record of records) {
      try {
        await this.processRecord(record);
      } catch (e) {
        this.log('WARN', 'tracking failed, will retry', { messageId: record.messageId, error: errorText(e) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  }

  public async processRecord(record: SqsRecord): Promise<TaskResult | undefined> {
    let event: any;
    try {
      event = JSON.parse(record.body);
    } catch {
      this.log('ERROR', 'tracker message is not JSON: dropped', { messageId: record.messageId });
      return undefined;
    }
    if (event?.['detail-type'] === 'Scheduled Event') {
      await this.sweep();
      return undefined;
    }
    if (event?.['detail-type'] !== 'ECS Task State Change') {
      this.log('WARN', 'not an ECS Task State Change event: dropped', { messageId: record.messageId, detailType: event?.['detail-type'] });
      return undefined;
    }
    return this.taskStopped(event.detail ?? {});
  }

  /**
   * Handles one `ECS Task State Change` detail of a stopped task: records its
   * outcome in the ledger (once per task: a second, even disagreeing, stop
   * event of the task gets the first outcome), then takes each step the
   * outcome needs — enqueue the retry, send the failed-job message, publish
   * the event — recording each as done, so a redelivery repeats none.
   */
  public async taskStopped(detail: any): Promise<TaskResult | undefined> {
    if (detail.lastStatus !== 'STOPPED' || detail.startedBy !== this.config.startedBy) {
      return undefined;
    }
    const entries = trackingEntries(detail.overrides, this.config.containerName);
    const jobId = entries[ENV_JOB_ID];
    if (!jobId) {
      this.log('WARN', 'stopped task has no HC_JOB_ID: not launched by a tracking dispatcher', { taskArn: detail.taskArn });
      return undefined;
    }
    const run = Number(entries[ENV_RUN] ?? '1') || 1;
    const attempt = Number(entries[ENV_ATTEMPT] ?? '1') || 1;
    const fresh = classify(detail, this.config.containerName);
    const child = this.config.arrays ? arrayChildOf(detail.overrides, this.config.containerName) : undefined;
    // A child of an array job that fails its parent is never retried.
    const decision = child && this.config.arrays?.failParent
      ? { retry: false }
      : retryDecision(this.config, fresh, reasonsOf(detail, this.config.containerName, fresh), run);
    const retry = decision.retry;
    const key = ledgerKey(this.config.startedBy, jobId);
    const recording = await this.clients.ledger.recordOutcome(key, {
      jobId,
      dispatcher: this.config.startedBy,
      run,
      taskArn: detail.taskArn,
      outcome: fresh.outcome,
      reason: fresh.reason,
      exitCode: fresh.exitCode,
      status: fresh.outcome === JobOutcome.SUCCEEDED ? JobStatus.SUCCEEDED : retry ? JobStatus.RETRYING : JobStatus.FAILED,
      stoppedAt: detail.stoppedAt,
      ...(decision.rule ? { retryRule: decision.rule } : {}),
    });
    if (recording.kind === 'stale') {
      this.log('INFO', 'stop event of a run the job has moved past: ignored', {
        jobId, run, taskArn: detail.taskArn, ledgerRun: recording.record?.run, ledgerTask: recording.record?.taskArn,
      });
      // This task may have claimed its array's completion before its run went stale: the event still goes out once.
      if (child) await this.completeArray(child, detail.taskArn);
      return undefined;
    }
    const record = recording.record;
    // One outcome per task: a repeated event acts on what was recorded first.
    const classification: Classification = recording.kind === 'duplicate'
      ? { outcome: record.outcome as JobOutcome, reason: record.reason ?? '', ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}) }
      : fresh;
    const rule = recording.kind === 'duplicate' ? record.retryRule : decision.rule;
    const outcome = classification.outcome;
    const action: TaskResult['action'] = record.status === JobStatus.SUCCEEDED ? 'succeeded' : record.status === JobStatus.RETRYING ? 'retried' : 'failed';
    const base = { jobId, run, attempt, outcome, reason: classification.reason, taskArn: detail.taskArn, ...(rule ? { retryRule: rule } : {}) };
    const ledger = this.clients.ledger;
    let acted = recording.kind === 'recorded';

    if (action === 'retried' && !record.retrySent) {
      const envelope: Envelope = {
        version: ENVELOPE_VERSION,
        relaunch: { jobId, run: run + 1, overrides: mappedOverrides(detail.overrides) },
        attempt: attempt + 1,
        reason: `retry ${run} of ${this.config.retryAttempts} after ${outcome}: ${classification.reason}${rule ? ` (rule ${rule})` : ''}`,
      };
      await this.clients.sqs.send(new SendMessageCommand({
        QueueUrl: this.config.dispatchQueueUrl,
        MessageBody: JSON.stringify({ [ENVELOPE_KEY]: envelope }),
      }));
      await ledger.markStep(key, detail.taskArn, 'retrySent');
      acted = true;
      this.log('INFO', 'job retried', { ...base, nextRun: run + 1 });
    }
    if (action === 'failed' && !record.failedJobSent) {
      await this.clients.sqs.send(new SendMessageCommand({
        QueueUrl: this.config.failedJobsQueueUrl,
        MessageBody: JSON.stringify(this.failedJobMessage(detail, jobId, run, attempt, classification, rule)),
      }));
      await ledger.markStep(key, detail.taskArn, 'failedJobSent');
      acted = true;
      this.log('ERROR', 'job failed', base);
    }
    if (action !== 'retried' && !record.eventSent) {
      await this.publish(action === 'succeeded' ? DETAIL_TYPE_SUCCEEDED : DETAIL_TYPE_FAILED, {
        jobId,
        outcome,
        reason: classification.reason,
        ...(classification.exitCode !== undefined ? { exitCode: classification.exitCode } : {}),
        ...(rule ? { retryRule: rule } : {}),
        run,
        attempt,
        taskArn: detail.taskArn,
        cluster: detail.clusterArn,
        ...(entries[ENV_ENQUEUED_AT] ? { enqueuedAt: entries[ENV_ENQUEUED_AT] } : {}),
        ...(detail.startedAt ? { startedAt: detail.startedAt } : {}),
        ...(detail.stoppedAt ? { stoppedAt: detail.stoppedAt } : {}),
        compute: 'fargate',
        dispatcher: this.config.startedBy,
        ...(child ? { arrayJobId: child.arrayJobId, arrayIndex: child.index } : {}),
        // A routed job whose Lambda run could not finish: this task is its spillover.
        ...(record.spilledOver ? { spilledOver: true, spilledOverReason: record.spilledOver } : {}),
      });
      await ledger.markStep(key, detail.taskArn, 'eventSent');
      acted = true;
      if (action === 'succeeded') this.log('INFO', 'job succeeded', base);
    }
    // A child's final outcome counts into its parent (once per child), which completes once.
    if (child && action !== 'retried' && await this.countChild(child, action === 'succeeded', detail.taskArn)) acted = true;
    if (!acted) {
      this.log('INFO', 'stop event already handled', base);
      return { jobId, run, attempt, classification, action, repeated: true };
    }
    if (recording.kind === 'recorded') this.emit(detail, entries, classification, action);
    return { jobId, run, attempt, classification, action, repeated: recording.kind === 'duplicate' };
  }

  /**
   * Counts a child's final outcome into its array job and publishes the
   * completion when it was the last: resolves true when it did either.
   * Repeated (a redelivered stop event, a redriven child that ran again):
   * nothing is counted twice, and the completion goes out once.
   */
  private async countChild(child: ArrayChildEntries, succeeded: boolean, taskArn: string): Promise<boolean> {
    const key = ledgerKey(this.config.startedBy, child.arrayJobId);
    const count = await this.clients.ledger.countChild(key, child.index, succeeded ? 'succeeded' : 'failed', this.config.arrays?.failParent ?? false);
    if (!count.parent) {
      this.log('WARN', 'array job not in the ledger: child not counted', { arrayJobId: child.arrayJobId, index: child.index });
      return false;
    }
    const check = await this.completion(key, count.parent, taskArn);
    return count.counted || check === 'published';
  }

  /** Publishes the completion of a child's array if it is done and not sent (no count). */
  private async completeArray(child: ArrayChildEntries, taskArn: string): Promise<void> {
    const key = ledgerKey(this.config.startedBy, child.arrayJobId);
    await this.completion(key, await this.clients.ledger.get(key), taskArn);
  }

  /** The completion check; another caller publishing it (or one that died holding it) brings this event back later. */
  private async completion(key: string, parent: LedgerRecord | undefined, taskArn: string): Promise<CompletionCheck> {
    const check = await completeArrayIfDone(this.clients.ledger, key, parent, taskArn,
      (detail) => this.publish(DETAIL_TYPE_ARRAY_COMPLETED, { ...detail }), this.log);
    if (check === 'claimed-elsewhere') throw new Error(`the completion of ${key} is being published by another caller: looking again later`);
    return check;
  }

  /**
   * Ready for redrive: the body is a relaunch envelope for the next run (the
   * ledger accepts it once, while the job is still at this run), with the
   * failure beside it.
   */
  private failedJobMessage(detail: any, jobId: string, run: number, attempt: number, c: Classification, rule?: string): FailedJobMessage {
    return {
      [ENVELOPE_KEY]: {
        version: ENVELOPE_VERSION,
        relaunch: { jobId, run: run + 1, overrides: mappedOverrides(detail.overrides) },
        attempt: attempt + 1,
        reason: `redrive of a job that ended ${c.outcome}`,
      },
      failure: {
        jobId,
        outcome: c.outcome,
        reason: c.reason,
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
        ...(rule ? { retryRule: rule } : {}),
        taskArn: detail.taskArn,
        cluster: detail.clusterArn,
        run,
        attempt,
        ...(detail.stoppedAt ? { stoppedAt: detail.stoppedAt } : {}),
      },
    };
  }

  private async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    const res = await this.clients.events.send(new PutEventsCommand({
      Entries: [{ Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: this.config.eventBusName }],
    }));
    if ((res.FailedEntryCount ?? 0) > 0) {
      const entry = res.Entries?.find((e) => e.ErrorCode);
      throw new Error(`PutEvents failed: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }

  private emit(detail: any, entries: Record<string, string>, c: Classification, action: TaskResult['action']): void {
    if (this.clients.metrics === false) return;
    const metrics: MetricValue[] = [];
    const durations: MetricValue[] = [];
    const run = seconds(detail.startedAt, detail.stoppedAt);
    const toStart = seconds(entries[ENV_ENQUEUED_AT], detail.startedAt);
    const toStop = seconds(entries[ENV_ENQUEUED_AT], detail.stoppedAt);
    if (run !== undefined) durations.push({ name: 'RunDuration', value: run, unit: 'Seconds' });
    if (toStart !== undefined) durations.push({ name: 'QueueToStart', value: toStart, unit: 'Seconds' });
    if (toStop !== undefined) durations.push({ name: 'QueueToStop', value: toStop, unit: 'Seconds' });
    metrics.push({ name: 'TasksStopped', value: 1, unit: 'Count' });
    if (action === 'succeeded') metrics.push({ name: 'JobsSucceeded', value: 1, unit: 'Count' });
    if (action === 'failed') metrics.push({ name: 'JobsFailed', value: 1, unit: 'Count' });
    if (action === 'retried') metrics.push({ name: 'JobRetries', value: 1, unit: 'Count' });
    const dims = { Dispatcher: this.config.startedBy, Outcome: c.outcome };
    emitMetrics(dims, [['Dispatcher'], ['Dispatcher', 'Outcome']], metrics);
    emitMetrics({ Dispatcher: this.config.startedBy }, [['Dispatcher']], durations);
    const costs = taskCosts(detail);
    if (costs) {
      emitMetrics({ Dispatcher: this.config.startedBy, Compute: 'fargate' }, [['Dispatcher', 'Compute']], [
        { name: 'EstimatedCost', value: costs.fargate, unit: 'None' },
        ...(costs.lambda !== undefined ? [{ name: 'EstimatedCostOtherModel', value: costs.lambda, unit: 'None' as const }] : []),
      ]);
    }
  }

  /**
   * Stops the dispatcher's tasks that have run longer than the timeout, and
   * those that have not reached RUNNING within the start timeout.
   */
  public async sweep(): Promise<string[]> {
    const timeout = this.config.timeoutSeconds;
    const startTimeout = this.config.startTimeoutSeconds;
    if (!timeout && !startTimeout) return [];
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.clients.ecs.send(new ListTasksCommand({
        cluster: this.config.cluster, startedBy: this.config.startedBy, desiredStatus: 'RUNNING', maxResults: 100, nextToken,
      }));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const stopped: string[] = [];
    const notStarted: string[] = [];
    const stop = async (taskArn: string, reason: string) => {
      await this.clients.ecs.send(new StopTaskCommand({ cluster: this.config.cluster, task: taskArn, reason }));
    };
    for (let i = 0; i < arns.length; i += 100) {
      const { tasks = [] } = await this.clients.ecs.send(new DescribeTasksCommand({ cluster: this.config.cluster, tasks: arns.slice(i, i + 100) }));
      for (const task of tasks) {
        if (!task.taskArn || task.lastStatus === 'STOPPED' || task.lastStatus === 'DEPROVISIONING' || task.lastStatus === 'STOPPING') continue;
        const created = task.createdAt ? new Date(task.createdAt).getTime() : undefined;
        // Not RUNNING yet: PROVISIONING, PENDING or ACTIVATING (a task that ran has startedAt).
        if (startTimeout && !task.startedAt && created !== undefined && this.now() - created > startTimeout * 1000) {
          await stop(task.taskArn, `${START_TIMEOUT_REASON_PREFIX} ${startTimeout} s (still ${task.lastStatus ?? 'not running'})`);
          notStarted.push(task.taskArn);
          continue;
        }
        const since = task.startedAt ?? (startTimeout ? undefined : task.createdAt);
        if (timeout && since && this.now() - new Date(since).getTime() > timeout * 1000) {
          await stop(task.taskArn, `${TIMEOUT_REASON_PREFIX} ${timeout} s`);
          stopped.push(task.taskArn);
        }
      }
    }
    if (stopped.length) this.log('WARN', 'stopped tasks past their timeout', { timeoutSeconds: timeout, tasks: stopped });
    if (notStarted.length) this.log('WARN', 'stopped tasks that did not start in time', { startTimeoutSeconds: startTimeout, tasks: notStarted });
    return [...notStarted, ...stopped];
  }
}
