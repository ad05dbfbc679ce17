import { createHash } from 'crypto';
import { ECSClient, ListTasksCommand, RunTaskCommand, RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { DeferredError, isDispatchError, RetryableError } from './errors';
import { PreparedJob, prepareJob, TaskOverrides, withTrackingEnv } from './input-mapping';
import type { BatchContext, Launcher, LaunchRequest } from './launcher';
import type { PutObject } from './s3-put';
import { FargateJobTargetConfig, JobLaunchConfig } from '../../contract/dispatch-config';
import type { Job } from '../../contract/job';
import {
  ENV_ATTEMPT, ENV_ENQUEUED_AT, ENV_JOB_ID, ENV_RUN, TAG_ATTEMPT, TAG_DISPATCHER, TAG_JOB_ID, TRACKING_ENV_RESERVE,
} from '../../contract/names';
import { errorText } from '../../internal/runtime/log';

const THROTTLE_BACKOFF_BASE_MS = 250;
const THROTTLE_BACKOFF_MAX_MS = 4_000;

/**
 * The deterministic RunTask client token of attempt `attempt` of a job:
 * 64 hex characters, scoped by task-definition family so that two jobs
 * triggered by the same event on one cluster never collide.
 */
export function clientToken(family: string, jobId: string, attempt: number): string {
  return createHash('sha256').update(`${family}\n${jobId}\n${attempt}`, 'utf8').digest('hex');
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

/** The AWS calls the Fargate launcher makes. */
export interface FargateClients {
  readonly ecs: ECSClient;
  /** Writes claim-check documents; required when the target has a claim check. */
  readonly putObject?: PutObject;
}

/**
 * Launches one Fargate task per job through RunTask, walking the job's token
 * chain: a deterministic client token per attempt, on-demand fallback after
 * a Spot attempt that found no capacity, claim-check documents written before
 * the launch, and the running-task cap.
 */
export class FargateLauncher implements Launcher {
  private readonly job: JobLaunchConfig;
  /** The budget of the current batch (undefined: no cap; an Error: the count failed). */
  private budget?: LaunchBudget | Error;

  constructor(private readonly target: FargateJobTargetConfig, private readonly startedBy: string, private readonly clients: FargateClients) {
    this.job = target.job;
    if (target.claimCheck && !clients.putObject) {
      throw new Error('dispatcher config has a claim check but no putObject client was given');
    }
  }

  /** Counts the tasks this dispatcher started that have not stopped yet. */
  public async beginBatch(context: BatchContext): Promise<void> {
    this.budget = undefined;
    const cap = this.target.maxConcurrentTasks;
    if (cap === undefined) return;
    let running = 0;
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.clients.ecs.send(new ListTasksCommand({
          cluster: this.job.cluster, startedBy: this.startedBy, desiredStatus: 'RUNNING', maxResults: 100, nextToken,
        }));
        running += page.taskArns?.length ?? 0;
        nextToken = page.nextToken;
      } while (nextToken && running < cap);
    } catch (e) {
      context.log('WARN', 'cannot count running tasks', { error: errorText(e) });
      this.budget = e instanceof Error ? e : new Error(String(e));
      return;
    }
    this.budget = new LaunchBudget(Math.max(0, cap - running));
  }

  public async launch(request: LaunchRequest, context: BatchContext): Promise<string[]> {
    // Resolve every job first so that a permanent error dead-letters the record
    // before any of its jobs launches. A relaunch comes with its overrides.
    const prepared = request.jobs.map((job) => ({
      job,
      prepared: request.overrides ? { overrides: request.overrides as TaskOverrides } : this.prepare(job),
    }));
    const launch: LaunchContext = { run: request.run, enqueuedAt: request.enqueuedAt };
    const budget = this.budget;
    if (budget instanceof Error) {
      throw new RetryableError(`cannot count the running tasks for maxConcurrentTasks: ${errorText(budget)}`);
    }
    if (budget && !budget.take(prepared.length)) {
      throw new DeferredError(`maxConcurrentTasks (${this.target.maxConcurrentTasks}) reached: record left in the queue`);
    }
    const results = await Promise.allSettled(prepared.map(async ({ job, prepared: p }) => {
      if (p.claimCheck) {
        await this.clients.putObject!(`${this.target.claimCheck!.endpoint}/${p.claimCheck.key}`, p.claimCheck.body);
      }
      return this.launchChain(job, request.attempt, request.receiveCount, p.overrides, launch, context);
    }));
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`job ${prepared[i].job.id}: ${errorText(r.reason, isDispatchError)}`] : []);
    if (failed.length > 0) {
      budget?.give(failed.length);
      throw new RetryableError(failed.join('; '));
    }
    return prepared.map((p) => p.job.id);
  }

  /** Overrides (and claim-check document) of a job; throws `PermanentError` when it can never launch. */
  public prepare(job: Job): PreparedJob {
    return prepareJob(this.job, job, this.target.claimCheck, this.target.tracking ? TRACKING_ENV_RESERVE : 0);
  }

  /** The exact RunTask input for attempt `attempt` of `job`. */
  public runTaskInput(job: Job, attempt: number, capacity: CapacityChoice = 'primary',
    mapped: TaskOverrides | undefined = this.prepare(job).overrides, context: LaunchContext = { run: 1 }): RunTaskCommandInput {
    const c = this.job;
    const overrides = this.target.tracking
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
      startedBy: this.startedBy,
      tags: [
        { key: TAG_JOB_ID, value: job.id },
        { key: TAG_DISPATCHER, value: this.startedBy },
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
    const stride = this.job.fallbackToOnDemand ? 2 : 1;
    return Array.from({ length: stride * Math.max(1, receiveCount) }, (_, i) => ({
      attempt: first + i,
      capacity: stride === 2 && i % 2 === 1 ? 'on-demand' as const : 'primary' as const,
    }));
  }

  /** Launches the job, walking its token chain. */
  private async launchChain(job: Job, first: number, receiveCount: number, overrides: TaskOverrides | undefined,
    launch: LaunchContext, context: BatchContext): Promise<void> {
    const failures: string[] = [];
    for (const step of this.attemptPlan(first, receiveCount)) {
      const input = this.runTaskInput(job, step.attempt, step.capacity, overrides, launch);
      let failure: string | undefined;
      for (let throttled = 0; ; throttled++) {
        try {
          failure = await this.runTask(job, input, step.attempt, context);
          break;
        } catch (e) {
          const name = (e as Error)?.name ?? '';
          context.countFailure(name === 'ThrottlingException' ? 'throttling' : name === 'TimeoutError' ? 'timeout' : 'error');
          // Throttling outlasting the SDK's retries: keep trying (same token) while the
          // invocation has time, rather than hiding the record for a whole visibility timeout.
          const wait = Math.min(THROTTLE_BACKOFF_MAX_MS, THROTTLE_BACKOFF_BASE_MS * 2 ** throttled) * (0.5 + Math.random() / 2);
          if (name !== 'ThrottlingException' || Date.now() + wait >= context.deadline) throw e;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      if (failure === undefined) return;
      context.countFailure(/capacity/i.test(failure) ? 'capacity' : 'no-task');
      failures.push(`attempt ${step.attempt} (${step.capacity}): ${failure}`);
    }
    throw new RetryableError(`RunTask started no task: ${failures[failures.length - 1]}`);
  }

  /** Runs one attempt; returns why it started no task, or undefined when it did. */
  private async runTask(job: Job, input: RunTaskCommandInput, attempt: number, context: BatchContext): Promise<string | undefined> {
    let response;
    try {
      response = await this.clients.ecs.send(new RunTaskCommand(input));
    } catch (e) {
      if ((e as Error)?.name === 'ConflictException') {
        // Same token, different parameters: this job already launched with an
        // earlier task definition revision. Launching again would duplicate it.
        context.log('WARN', 'job already launched with other parameters', { jobId: job.id, attempt, clientToken: input.clientToken });
        return undefined;
      }
      throw e;
    }
    const tasks = response.tasks ?? [];
    const failures = (response.failures ?? []).map((f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}`);
    if (tasks.length === 0) {
      return failures.length ? failures.join(', ') : 'no failures reported';
    }
    context.log('INFO', 'job launched', {
      jobId: job.id,
      attempt,
      taskArn: tasks[0].taskArn,
      clientToken: input.clientToken,
      ...(failures.length ? { failures } : {}),
    });
    return undefined;
  }
}
