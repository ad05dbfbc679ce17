import { createHash, randomUUID } from 'crypto';
import { ECSClient, ListTasksCommand, RunTaskCommand, RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { ContinuationError, DeferredError, isDispatchError, PermanentError, RetryableError } from './errors';
import { overridesSize, PreparedJob, prepareJob, TaskOverrides, valueAtPath, withTrackingEnv } from './input-mapping';
import type { BatchContext, Launcher, LaunchRequest } from './launcher';
import { ArrayConfig, DEFAULT_LEASE_MARGIN_MS, FargateJobTargetConfig, JobLaunchConfig, MAX_OVERRIDES_CHARS } from '../../contract/dispatch-config';
import type { Job } from '../../contract/job';
import { arrayChildId, AttemptCapacity, JobStatus, ledgerKey, LedgerRecord, MAX_ARRAY_SIZE, TOKEN_REPLAY_WINDOW_MS } from '../../contract/ledger';
import {
  DETAIL_TYPE_ARRAY_COMPLETED, ENV_ARRAY_ELEMENT, ENV_ARRAY_INDEX, ENV_ARRAY_JOB_ID, ENV_ARRAY_SIZE, ENV_ATTEMPT, ENV_ENQUEUED_AT, ENV_JOB_ID,
  ENV_RUN, EVENT_SOURCE, TAG_ATTEMPT, TAG_DISPATCHER, TAG_JOB_ID, TRACKING_ENV_RESERVE,
} from '../../contract/names';
import { completeArrayIfDone } from '../../internal/runtime/array-completion';
import type { PutEvent } from '../../internal/runtime/events-put';
import type { JobLedgerStore } from '../../internal/runtime/ledger';
import { errorText } from '../../internal/runtime/log';
import { mapLimit } from '../../internal/runtime/map-limit';
import type { PutObject } from '../../internal/runtime/signed-request';

const THROTTLE_BACKOFF_BASE_MS = 250;
const THROTTLE_BACKOFF_MAX_MS = 4_000;
/** How often a delivery looks again at an attempt another delivery is launching. */
const LEASE_POLL_MS = 100;
/** Children of an array job launched per step (the cursor in the parent item moves after each). */
export const ARRAY_CHUNK = 50;
/** Children of one array job launched at once (RunTask takes 20 calls/s sustained; the SDK paces the rest). */
const ARRAY_LAUNCH_CONCURRENCY = 10;
/** A delivery starts no new step of an array job this close to its deadline: the record continues in a new message. */
const ARRAY_STEP_MARGIN_MS = 3_000;
/** Bytes of the overrides kept free for the array entries (besides the element). */
const ARRAY_ENV_RESERVE = 160;

/** An array job's children, ready to launch: their number, elements (from a list) and the overrides they share. */
interface PreparedArray {
  readonly job: Job;
  readonly size: number;
  readonly elements?: string[];
  readonly base: PreparedJob;
}

/** A child of an array job, as its launch records it. */
interface ArrayChild {
  readonly arrayJobId: string;
  readonly arrayIndex: number;
}

/**
 * The deterministic RunTask client token of attempt `attempt` of a job:
 * 64 hex characters, scoped by task-definition family so that two jobs
 * triggered by the same event on one cluster never collide.
 */
export function clientToken(family: string, jobId: string, attempt: number): string {
  return createHash('sha256').update(`${family}\n${jobId}\n${attempt}`, 'utf8').digest('hex');
}

/** Which launch settings an attempt uses: the job's own (launch type or strategy), or on-demand Fargate. */
export type CapacityChoice = AttemptCapacity;

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
  /** The job ledger (one conditional item per job). */
  readonly ledger: JobLedgerStore;
  /** Writes claim-check documents; required when the target has a claim check. */
  readonly putObject?: PutObject;
  /** Publishes the `Array Job Completed` event of an array job whose last children were cancelled; required with arrays. */
  readonly putEvent?: PutEvent;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What became of one job of a record. */
type JobLaunch = 'launched' | 'already-launched' | 'superseded' | 'deferred' | 'cancelled';

/** What one RunTask attempt did. */
type AttemptResult = { readonly taskArn: string } | { readonly failure: string };

/**
 * Launches one Fargate task per job through RunTask. Each job has a ledger
 * item; every attempt of its token chain is reserved there (a conditional
 * write) before RunTask is called with that attempt's client token, and
 * its result recorded after. So:
 * - a job whose item holds a task for the current run is never launched again;
 * - an attempt whose result is unknown (throttled, timed out, the Lambda
 *   died) is only ever retried with its own token — ECS answers a repeated
 *   successful request with the original task;
 * - the next token is reserved only once the last one is known to have
 *   started nothing (`failures[]`, or `ConflictException` without
 *   `resourceIds`), whether or not ECS remembers failed tokens;
 * - concurrent deliveries of one job converge on one reservation.
 * Spot jobs with fallback alternate: after a Spot attempt that found no
 * capacity, the next attempt runs on on-demand Fargate, in the same delivery.
 */
export class FargateLauncher implements Launcher {
  private readonly job: JobLaunchConfig;
  /** The budget of the current batch (undefined: no cap; an Error: the count failed). */
  private budget?: LaunchBudget | Error;
  private readonly now: () => number;
  /** How long after its deadline a delivery still owns the attempt it got no answer for. */
  private readonly leaseMarginMs: number;

  /**
   * `routed`: the Fargate side of a routing dispatcher, whose ledger items
   * say where each run runs (`compute`).
   */
  constructor(private readonly target: FargateJobTargetConfig, private readonly startedBy: string, private readonly clients: FargateClients,
    private readonly routed = false) {
    this.job = target.job;
    this.now = clients.now ?? Date.now;
    this.leaseMarginMs = target.ledger.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS;
    if (target.claimCheck && !clients.putObject) {
      throw new Error('dispatcher config has a claim check but no putObject client was given');
    }
    if (target.array && !clients.putEvent) {
      throw new Error('dispatcher config has array jobs but no putEvent client was given');
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
        }), { abortSignal: untilDeadline(context) });
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
    // A relaunch (a retried or redriven child) is one child: launched as any job.
    if (this.target.array && !request.overrides) return this.launchArrays(this.target.array, request, context);
    // Resolve every job first so that a permanent error dead-letters the record
    // before any of its jobs launches. A relaunch comes with its overrides.
    const prepared = request.jobs.map((job) => ({
      job,
      prepared: request.overrides ? { overrides: request.overrides as TaskOverrides } : this.prepare(job),
    }));
    if (this.budget instanceof Error) {
      throw new RetryableError(`cannot count the running tasks for maxConcurrentTasks: ${errorText(this.budget)}`);
    }
    const results = await Promise.allSettled(prepared.map(({ job, prepared: p }) => this.launchJob(job, p, request, context)));
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [{ job: prepared[i].job.id, error: r.reason }] : []);
    const permanent = failed.find((f) => f.error instanceof PermanentError);
    if (permanent) throw new PermanentError(`job ${permanent.job}: ${permanent.error.message}`);
    if (failed.length > 0) {
      throw new RetryableError(failed.map((f) => `job ${f.job}: ${errorText(f.error, isDispatchError)}`).join('; '));
    }
    const deferred = results.filter((r) => r.status === 'fulfilled' && r.value === 'deferred').length;
    if (deferred > 0) {
      // The jobs that fitted are launched (and in the ledger): the redelivery launches the rest.
      throw new DeferredError(`maxConcurrentTasks (${this.target.maxConcurrentTasks}) reached: ${deferred} of ${prepared.length} jobs left in the queue`);
    }
    return prepared.map((p) => p.job.id);
  }

  /** Overrides (and claim-check document) of a job; throws `PermanentError` when it can never launch. */
  public prepare(job: Job): PreparedJob {
    return prepareJob(this.job, job, this.target.claimCheck, this.target.tracking ? TRACKING_ENV_RESERVE : 0);
  }

  /**
   * Launches one job of a record, through its ledger item. Most jobs are new:
   * the first write reserves attempt 1 outright (conditional on no item), and
   * only when an item exists does the dispatcher act on it — the failed
   * write returns it, so the common path is two ledger writes around RunTask.
   */
  private async launchJob(job: Job, prepared: PreparedJob, request: LaunchRequest, context: BatchContext, child?: ArrayChild): Promise<JobLaunch> {
    const ledger = this.clients.ledger;
    const key = ledgerKey(this.startedBy, job.id);
    const run = request.run;
    const log = (message: string, fields: Record<string, unknown> = {}) => context.log('INFO', message, { jobId: job.id, run, ...fields });
    const maxNew = this.job.fallbackToOnDemand ? 2 : 1;
    const me = randomUUID();
    // This delivery's calls are abandoned at the deadline: its lease ends a margin later.
    const leaseUntil = context.deadline + this.leaseMarginMs;
    let reserved = 0;
    /** The item as last read or written (from the second step on; before the first write nothing is known). */
    let record: LedgerRecord | undefined;
    const reserve = async (attempt: number, capacity: CapacityChoice): Promise<boolean> => {
      const enqueuedAt = record?.enqueuedAt ?? request.enqueuedAt;
      const reservation = {
        owner: me,
        leaseUntil,
        jobId: job.id,
        dispatcher: this.startedBy,
        run,
        attempt,
        capacity,
        enqueuedAt,
        ...(this.routed ? { compute: 'fargate' as const } : {}),
        ...(request.spilledOver ? { spilledOver: request.spilledOver } : {}),
        ...(child ?? {}),
      };
      const result = await ledger.reserve(key, record, reservation, untilDeadline(context));
      if (!result.won) {
        // Another delivery (or an earlier one) wrote first: act on the item as it is.
        record = result.current ?? await ledger.get(key, untilDeadline(context));
        return false;
      }
      reserved++;
      const now = this.now();
      record = { ...(record ?? {} as LedgerRecord), run, attempt, attemptState: 'open', attemptCapacity: capacity, reservedAt: now, owner: me, leaseUntil, enqueuedAt };
      return true;
    };
    for (let step = 0; step < 60; step++) {
      let attempt: number;
      let capacity: CapacityChoice;
      // Whether this attempt's token can never have been sent: reserved by this delivery just now, or
      // taken over from one whose RunTask the task cap deferred. Only then may a deferral say so.
      let neverSent = true;
      if (step === 0) {
        // Optimistic: a new job (the common case) reserves attempt `request.attempt` at once.
        if (!await reserve(request.attempt, 'primary')) continue;
        attempt = request.attempt;
        capacity = 'primary';
      } else {
        const settled = this.settled(record, run);
        if (settled) {
          const what = settled === 'already-launched' ? 'job already launched' : settled === 'cancelled' ? 'job cancelled (its array failed)' : 'job superseded by a later run';
          log(what, { taskArn: record?.taskArn, ledgerRun: record?.run });
          return settled;
        }
        if (record && record.run === run && record.attemptState === 'open') {
          // Its result is unknown: only its own token may be tried again.
          const age = this.now() - record.reservedAt;
          if (age > TOKEN_REPLAY_WINDOW_MS) {
            throw new PermanentError(`attempt ${record.attempt} was reserved ${Math.round(age / 3_600_000)} h ago and whether it started a task is unknown; `
              + 'ECS no longer remembers its client token, so trying it again could start a second task: look for a task tagged '
              + `${TAG_JOB_ID}=${job.id}, then launch the job by hand or delete its ledger item`);
          }
          if (record.owner !== undefined && record.owner !== me) {
            const left = (record.leaseUntil ?? 0) - this.now();
            if (left > 0) {
              // Its owner may still be calling RunTask with this token: only one caller per token.
              // Owners usually finish within milliseconds: wait for it while this batch has time.
              const wait = Math.min(LEASE_POLL_MS, left);
              if (Date.now() + wait < context.deadline && step < 59) {
                await new Promise((r) => setTimeout(r, wait));
                record = await ledger.get(key, untilDeadline(context));
                continue;
              }
              throw new RetryableError(`attempt ${record.attempt} is being launched by another delivery (its lease ends in ${Math.ceil(left / 1000)} s): `
                + 'left in the queue until then');
            }
            const takeover = await ledger.takeOver(key, record, me, leaseUntil, untilDeadline(context));
            if (!takeover.won) {
              record = takeover.current ?? await ledger.get(key, untilDeadline(context));
              continue;
            }
            record = { ...record, owner: me, leaseUntil };
          }
          // Taken over (or never owned): its token may have been sent, unless the cap deferred it before RunTask.
          neverSent = record.notCalled === true;
          attempt = record.attempt;
          capacity = record.attemptCapacity;
        } else {
          if (reserved >= maxNew) throw new RetryableError(`RunTask started no task: ${record?.lastFailure ?? 'unknown'}`);
          attempt = (record?.attempt ?? request.attempt - 1) + 1;
          capacity = this.nextCapacity(record, run);
          if (!await reserve(attempt, capacity)) continue;
        }
      }
      // Room under the running-task cap is taken only now: an attempt left open
      // for lack of room is simply tried (with its token) on the next delivery.
      if (this.budget instanceof Error) {
        // The running tasks could not be counted: nothing is sent under the cap.
        await ledger.release(key, run, attempt, me, neverSent).catch(() => undefined);
        throw new RetryableError(`cannot count the running tasks for maxConcurrentTasks: ${errorText(this.budget)}`);
      }
      const budget = this.budget instanceof LaunchBudget ? this.budget : undefined;
      if (budget && !budget.take(1)) {
        // RunTask was not called now: the next delivery may take the attempt at once (or cancel it, for a
        // child, when its token was never sent at all).
        await ledger.release(key, run, attempt, me, neverSent).catch(() => undefined);
        return 'deferred';
      }
      let launched = false;
      try {
        if (prepared.claimCheck) {
          await this.clients.putObject!(`${this.target.claimCheck!.endpoint}/${prepared.claimCheck.key}`, prepared.claimCheck.body);
        }
        const input = this.runTaskInput(job, attempt, capacity, prepared.overrides, { run, enqueuedAt: record!.enqueuedAt });
        let result: AttemptResult;
        try {
          result = await this.attempt(job, input, attempt, context);
        } catch (e) {
          // An answer (throttling, a server error) means no call of this delivery is still in
          // flight: the next delivery may take the attempt at once. No answer: the lease stands.
          if ((e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode !== undefined) {
            await ledger.release(key, run, attempt, me).catch(() => undefined);
          }
          throw e;
        }
        if ('taskArn' in result) {
          await ledger.recordLaunch(key, run, attempt, result.taskArn, untilDeadline(context));
          launched = true;
          return 'launched';
        }
        context.countFailure(/capacity/i.test(result.failure) ? 'capacity' : 'no-task');
        const reason = `attempt ${attempt} (${capacity}): ${result.failure}`;
        await ledger.recordFailure(key, run, attempt, reason, untilDeadline(context));
        record = { ...record!, attemptState: 'failed', lastFailure: reason };
      } finally {
        if (!launched) budget?.give(1);
      }
    }
    throw new RetryableError('the ledger item kept changing under concurrent deliveries');
  }

  /** Whether the ledger says the job needs nothing for `run`. */
  private settled(record: LedgerRecord | undefined, run: number): JobLaunch | undefined {
    if (!record) return undefined;
    if (record.cancelled) return 'cancelled';
    if (record.arraySize !== undefined) {
      throw new PermanentError(`job ${record.jobId} is an array job in the ledger, and this dispatcher launches single jobs: `
        + 'a deploy removed the array option while the job was in flight; delete its ledger item to launch it as a single job');
    }
    if (record.run > run) return 'superseded';
    if (record.run === run && record.attemptState === 'launched') return 'already-launched';
    return undefined;
  }

  /** After a Spot attempt that found no capacity, on-demand (with fallback); otherwise the job's own capacity. */
  private nextCapacity(record: LedgerRecord | undefined, run: number): CapacityChoice {
    const spotFailed = record !== undefined && record.run === run && record.attemptState === 'failed'
      && record.attemptCapacity === 'primary' && /capacity/i.test(record.lastFailure ?? '');
    return this.job.fallbackToOnDemand && this.job.capacityProviderStrategy && spotFailed ? 'on-demand' : 'primary';
  }

  /**
   * Launches the children of every array job of a record. All are resolved
   * first (a list that is missing, empty, too long, or has an element too
   * large for the overrides dead-letters the record before any child
   * launches). Resolves to the children launched by this delivery.
   */
  private async launchArrays(array: ArrayConfig, request: LaunchRequest, context: BatchContext): Promise<string[]> {
    // A failed count of running tasks stops each child before RunTask (cancelling and completing need none).
    const arrays = request.jobs.map((job) => this.prepareArray(array, job));
    const launched: string[] = [];
    for (const a of arrays) launched.push(...await this.launchArray(array, a, request, context));
    return launched;
  }

  /** An array job's children: their number, elements (from a list) and the overrides they share. */
  private prepareArray(array: ArrayConfig, job: Job): PreparedArray {
    let size = array.size ?? 0;
    let elements: string[] | undefined;
    if (array.listPath !== undefined) {
      const list = valueAtPath(array.listPath, job);
      if (!Array.isArray(list)) {
        throw new PermanentError(`array job ${job.id}: '${array.listPath}' is not a list in the ${job.source} event (got ${list === null ? 'null' : typeof list})`);
      }
      if (list.length === 0 || list.length > MAX_ARRAY_SIZE) {
        throw new PermanentError(`array job ${job.id}: the list at '${array.listPath}' has ${list.length} elements; an array job takes 1 to ${MAX_ARRAY_SIZE}`);
      }
      elements = list.map((e) => (typeof e === 'string' ? e : JSON.stringify(e) ?? 'null'));
      size = list.length;
    }
    const longest = elements ? Math.max(...elements.map((e) => Buffer.byteLength(e, 'utf8'))) : 0;
    const tracking = this.target.tracking ? TRACKING_ENV_RESERVE : 0;
    const reserve = tracking + ARRAY_ENV_RESERVE + (elements ? longest + 40 : 0);
    const widest = elements ? elements.findIndex((e) => Buffer.byteLength(e, 'utf8') === longest) : -1;
    const tooLarge = (chars: number) => new PermanentError(`array job ${job.id}: element ${widest} of '${array.listPath}' is ${longest} bytes, `
      + `and a child's overrides with it would be at least ${chars} characters, over RunTask's ${MAX_OVERRIDES_CHARS}: list keys or ids, and let each child read its data`);
    if (reserve > MAX_OVERRIDES_CHARS) throw tooLarge(reserve);
    const base = prepareJob(this.job, job, this.target.claimCheck, reserve);
    const prepared = { job, size, ...(elements ? { elements } : {}), base };
    if (elements) {
      const chars = overridesSize(this.childOverrides(prepared, widest)) + tracking;
      if (chars > MAX_OVERRIDES_CHARS) throw tooLarge(chars);
    }
    return prepared;
  }

  /** The overrides of child `index`: the job's own, plus its array entries. */
  private childOverrides(a: PreparedArray, index: number): TaskOverrides {
    return withTrackingEnv(a.base.overrides, this.job.containerName, {
      [ENV_ARRAY_JOB_ID]: a.job.id,
      [ENV_ARRAY_INDEX]: String(index),
      [ENV_ARRAY_SIZE]: String(a.size),
      ...(a.elements ? { [ENV_ARRAY_ELEMENT]: a.elements[index] } : {}),
    });
  }

  /**
   * Launches an array job's children from the cursor in its parent item,
   * a step at a time, each child exactly once through its own ledger item.
   * Before a step, its children are marked tried in the parent; after it,
   * the cursor moves past the children launched. Near the deadline the
   * record continues in a new message. A parent failed under `failParent`
   * has its children that never launched cancelled, one by one.
   */
  private async launchArray(array: ArrayConfig, a: PreparedArray, request: LaunchRequest, context: BatchContext): Promise<string[]> {
    const ledger = this.clients.ledger;
    const job = a.job;
    const key = ledgerKey(this.startedBy, job.id);
    let parent = await ledger.beginArray(key, {
      jobId: job.id, dispatcher: this.startedBy, size: a.size, failParent: array.failParent, enqueuedAt: request.enqueuedAt,
    }, untilDeadline(context));
    if (!parent) {
      throw new PermanentError(`job ${job.id} is in the ledger as a single job, and this dispatcher launches array jobs: `
        + 'a deploy added the array option while the job was in flight; delete its ledger item to launch it as an array job');
    }
    const size = parent.arraySize!;
    if (size !== a.size) {
      throw new PermanentError(`array job ${job.id} was started with ${size} children and is now given ${a.size}: a deploy changed the array `
        + 'option while the job was in flight, and its children would disagree on HC_ARRAY_SIZE; launch it again under a new job id, or deploy the old size');
    }
    if (a.base.claimCheck && (parent.arrayLaunched ?? 0) < size) {
      await this.clients.putObject!(`${this.target.claimCheck!.endpoint}/${a.base.claimCheck.key}`, a.base.claimCheck.body);
    }
    const step = array.launchStep ?? ARRAY_CHUNK;
    const launched: string[] = [];
    const failing = (p: LedgerRecord) => p.arrayFailParent === true && p.status === JobStatus.FAILED;
    for (let n = 0; (parent.arrayLaunched ?? 0) < size; n++) {
      const cursor: number = parent.arrayLaunched ?? 0;
      if (failing(parent)) {
        parent = await this.cancelRest(key, parent, a, request, context);
        break;
      }
      // Every delivery makes progress: the deadline is checked from the second step on.
      if (n > 0 && Date.now() > context.deadline - ARRAY_STEP_MARGIN_MS) {
        throw new ContinuationError(`array job ${job.id}: ${cursor} of ${size} children launched, the rest continue in a new message`);
      }
      const end = Math.min(size, cursor + step);
      if ((parent.arrayAttempted ?? 0) < end) {
        const marked = await ledger.markAttempted(key, end, untilDeadline(context));
        const current = marked.won ? marked.item : marked.current;
        if (!current) throw new RetryableError(`array job ${job.id}: its ledger item is gone`);
        parent = current;
        if (failing(parent)) continue;
      }
      const indices = Array.from({ length: end - cursor }, (_, i) => cursor + i);
      const results = await mapLimit(indices, ARRAY_LAUNCH_CONCURRENCY, (index) => this.launchChild(a, index, request, context));
      let done = 0;
      while (done < results.length && !(results[done] instanceof Error) && results[done] !== 'deferred') done++;
      results.forEach((result, i) => {
        if (result === 'launched') launched.push(arrayChildId(job.id, indices[i]));
      });
      if (done > 0) parent = await this.moveCursor(key, cursor, cursor + done, context) ?? parent;
      if (done < results.length) {
        const stuck = results[done];
        const why = `array job ${job.id}: child ${indices[done]}: `;
        if (stuck === 'deferred') {
          throw new DeferredError(`${why}maxConcurrentTasks (${this.target.maxConcurrentTasks}) reached: ${parent.arrayLaunched ?? 0} of ${size} children launched`,
            parent.arrayProgressAt);
        }
        if (stuck instanceof PermanentError) throw new PermanentError(`${why}${stuck.message}`);
        throw new RetryableError(`${why}${errorText(stuck, isDispatchError)}`);
      }
    }
    // A delivery that cancelled children and ended before publishing the completion publishes it now.
    if ((parent.childrenCancelled ?? 0) > 0) await this.completeArray(key, parent, context);
    context.log('INFO', 'array job launched', { jobId: job.id, size, launchedNow: launched.length, cursor: parent.arrayLaunched });
    return launched;
  }

  /** Launches child `index` through its own ledger item; resolves to what became of it, or the error. */
  private async launchChild(a: PreparedArray, index: number, request: LaunchRequest, context: BatchContext): Promise<JobLaunch | Error> {
    const child: Job = { ...a.job, id: arrayChildId(a.job.id, index) };
    try {
      return await this.launchJob(child, { overrides: this.childOverrides(a, index) }, { ...request, run: 1, attempt: 1 }, context,
        { arrayJobId: a.job.id, arrayIndex: index });
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  /** Moves the parent's cursor to `to` (from wherever another delivery left it); resolves to the parent item. */
  private async moveCursor(key: string, from: number, to: number, context: BatchContext): Promise<LedgerRecord | undefined> {
    let at = from;
    for (let i = 0; i < 10; i++) {
      const moved = await this.clients.ledger.advanceArray(key, at, to, untilDeadline(context));
      if (moved.won) return moved.item;
      const current = moved.current?.arrayLaunched;
      if (current === undefined || current >= to) return moved.current;
      at = current;
    }
    throw new RetryableError('the array job\'s cursor kept moving under concurrent deliveries');
  }

  /**
   * A failed parent (`failParent`): each child from the cursor on that no
   * delivery tried is cancelled in bulk; each that was tried is cancelled
   * on its own item when it started no task (counted once, as any child),
   * and resolved first when its attempt is open (its own token again: a
   * task it started is found, and then runs and is counted when it stops).
   * Children with a task run to their end. Then the cursor moves to the end.
   */
  private async cancelRest(key: string, parent: LedgerRecord, a: PreparedArray, request: LaunchRequest,
    context: BatchContext): Promise<LedgerRecord> {
    const ledger = this.clients.ledger;
    const size = parent.arraySize!;
    const cursor = parent.arrayLaunched ?? 0;
    // Children past `tried` were never tried: cancelled in bulk once (by this delivery or an earlier one).
    const tried = parent.arrayCancelledFrom ?? Math.max(cursor, parent.arrayAttempted ?? 0);
    let current = parent;
    if (parent.arrayCancelledFrom === undefined && tried < size) {
      const bulk = await ledger.cancelUntried(key, tried, size, untilDeadline(context));
      if (!bulk.won) throw new RetryableError(`array job ${parent.jobId}: another delivery is launching or cancelling its children`);
      current = bulk.item!;
      context.log('WARN', 'array job failed: children never tried are cancelled', { jobId: parent.jobId, cancelled: size - tried });
    }
    const indices = Array.from({ length: tried - cursor }, (_, i) => cursor + i);
    const outcomes = await mapLimit(indices, ARRAY_LAUNCH_CONCURRENCY, async (index): Promise<Error | undefined> => {
      const jobId = arrayChildId(parent.jobId, index);
      try {
        const child = { jobId, dispatcher: this.startedBy, arrayJobId: parent.jobId, arrayIndex: index };
        const cancelled = await ledger.cancelChild(ledgerKey(this.startedBy, jobId), child, untilDeadline(context));
        if (cancelled.won) {
          await ledger.countChild(key, index, 'cancelled', true, untilDeadline(context));
          return undefined;
        }
        // An open attempt may have started a task: its own token finds out (a task found runs to its end).
        if (cancelled.current?.attemptState === 'open') {
          const result = await this.launchChild(a, index, request, context);
          if (result instanceof Error) return result;
          return new RetryableError(`child ${index}: its open attempt was resolved (${result}); the next delivery cancels it or lets it run`);
        }
        return undefined;
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    });
    // The cursor's move returns the item after every count above.
    const failed = outcomes.find((o) => o !== undefined);
    if (failed) throw new RetryableError(`array job ${parent.jobId}: cancelling its children: ${errorText(failed, isDispatchError)}`);
    current = await this.moveCursor(key, cursor, size, context) ?? current;
    if (indices.length) context.log('WARN', 'array job failed: children tried but not launched are cancelled', { jobId: parent.jobId, children: indices.length });
    await this.completeArray(key, current, context);
    return current;
  }

  /** Publishes the completion of an array job whose last children were cancelled (the tracker publishes the others). */
  private async completeArray(key: string, parent: LedgerRecord | undefined, context: BatchContext): Promise<void> {
    const bus = this.target.array!.eventBusName;
    const check = await completeArrayIfDone(this.clients.ledger, key, parent, 'dispatcher',
      (detail) => this.clients.putEvent!(bus, EVENT_SOURCE, DETAIL_TYPE_ARRAY_COMPLETED, detail), context.log);
    if (check === 'claimed-elsewhere') {
      throw new RetryableError(`array job ${parent?.jobId}: its completion is being published by another caller; looking again later`);
    }
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
   * One attempt: RunTask with the attempt's token, throttling retried
   * within the batch while it has time. Resolves to the task it started or
   * why it started none; throws when the result is unknown (the attempt
   * stays open and is tried again with the same token).
   */
  private async attempt(job: Job, input: RunTaskCommandInput, attempt: number, context: BatchContext): Promise<AttemptResult> {
    for (let throttled = 0; ; throttled++) {
      try {
        return await this.runTask(job, input, attempt, context);
      } catch (e) {
        const name = (e as Error)?.name ?? '';
        context.countFailure(name === 'ThrottlingException' ? 'throttling' : name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'error');
        // Throttling outlasting the SDK's retries: keep trying (same token) while the
        // invocation has time, rather than hiding the record for a whole visibility timeout.
        const wait = Math.min(THROTTLE_BACKOFF_MAX_MS, THROTTLE_BACKOFF_BASE_MS * 2 ** throttled) * (0.5 + Math.random() / 2);
        if (name !== 'ThrottlingException' || Date.now() + wait >= context.deadline) throw e;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async runTask(job: Job, input: RunTaskCommandInput, attempt: number, context: BatchContext): Promise<AttemptResult> {
    let response;
    try {
      response = await this.clients.ecs.send(new RunTaskCommand(input), { abortSignal: untilDeadline(context) });
    } catch (e) {
      if ((e as Error)?.name === 'ConflictException') {
        // The token was used with other parameters (a deploy changed the task
        // definition, network or mapping since): resourceIds are the tasks
        // that request started — none means it started nothing.
        const tasks = (e as { resourceIds?: string[] }).resourceIds ?? [];
        context.log('WARN', 'client token used before with other parameters', { jobId: job.id, attempt, clientToken: input.clientToken, resourceIds: tasks });
        return tasks.length ? { taskArn: tasks[0] } : { failure: 'ConflictException: the token was used with other parameters and started no task' };
      }
      throw e;
    }
    const tasks = response.tasks ?? [];
    const failures = (response.failures ?? []).map((f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}`);
    if (tasks.length === 0) {
      return { failure: failures.length ? failures.join(', ') : 'no failures reported' };
    }
    context.log('INFO', 'job launched', {
      jobId: job.id,
      attempt,
      taskArn: tasks[0].taskArn,
      clientToken: input.clientToken,
      ...(failures.length ? { failures } : {}),
    });
    return { taskArn: tasks[0].taskArn! };
  }
}

/** Every AWS call of a batch is abandoned at the batch deadline (the record is retried, its attempt stays open). */
export function untilDeadline(context: BatchContext): AbortSignal {
  return AbortSignal.timeout(Math.max(100, context.deadline - Date.now()));
}
