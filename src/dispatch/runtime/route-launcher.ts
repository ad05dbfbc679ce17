import { createHash, randomUUID } from 'crypto';
import { PermanentError, RetryableError, isDispatchError } from './errors';
import { FargateClients, FargateLauncher, untilDeadline } from './fargate-launcher';
import { claimCheckLocation, TaskOverrides } from './input-mapping';
import type { BatchContext, Launcher, LaunchRequest } from './launcher';
import { decideRoute, RouteDecision } from './route';
import { fargateJobCost, lambdaJobCost } from '../../contract/compute-pricing';
import { DEFAULT_LEASE_MARGIN_MS, RouteDestinationConfig, RouteTargetConfig } from '../../contract/dispatch-config';
import { Job, JobOutcome } from '../../contract/job';
import { JobStatus, LedgerRecord, ledgerKey } from '../../contract/ledger';
import { DETAIL_TYPE_FAILED, DETAIL_TYPE_SUCCEEDED, EVENT_SOURCE } from '../../contract/names';
import {
  classifyInvocation, InvocationRecord, LAMBDA_JOB_VERSION, LambdaJobEvent, MAX_LAMBDA_EVENT_BYTES,
} from '../../contract/route';
import { emitMetrics } from '../../internal/runtime/emf';
import type { PutEvent } from '../../internal/runtime/events-put';
import type { InvokeAsync } from '../../internal/runtime/lambda-invoke';
import { errorText } from '../../internal/runtime/log';
import type { SqsRecord } from '../../internal/runtime/sqs';

/** The AWS calls of a routing dispatcher: the Fargate launcher's, and Lambda's asynchronous Invoke. */
export interface RouteClients extends FargateClients {
  readonly invoke: InvokeAsync;
  /** Publishes `Job Succeeded` / `Job Failed` of Lambda runs (when the route has an event bus). */
  readonly putEvent?: PutEvent;
  /** @default true */
  readonly metrics?: boolean;
}

/** What settling an invocation record did. */
export interface Settlement {
  readonly status: 'launched' | 'skipped';
  readonly reason: string;
  readonly jobs?: string[];
}

type LambdaDestination = Extract<RouteDestinationConfig, { kind: 'lambda' }>;

/** A Lambda worker's event, and the claim-check documents to write before invoking. */
interface PreparedLambdaJob {
  readonly payload: LambdaJobEvent;
  /** The job itself, when it is too large for the event. */
  readonly document?: { key: string; body: string };
  /** The job's Fargate claim-check document, for a spillover of a job too large for the event. */
  readonly spillDocument?: { key: string; body: string };
}

/**
 * Picks Lambda or Fargate per job (the first matching rule), launches each
 * job on its destination through the ledger, and settles the invocation
 * records Lambda's destinations send back: the outcome goes into the ledger;
 * a run Lambda could not finish (timeout, out of memory, too old, asked to)
 * spills over to the Fargate job as the next run, once (the ledger's run
 * number makes a duplicate record launch nothing).
 */
export class RouteLauncher implements Launcher {
  public readonly fargate?: FargateLauncher;
  private readonly now: () => number;
  private routed = new Map<string, number>();

  constructor(private readonly target: RouteTargetConfig, private readonly startedBy: string, private readonly clients: RouteClients) {
    this.now = clients.now ?? Date.now;
    if (target.fargate) {
      this.fargate = new FargateLauncher({ ...target.fargate, kind: 'fargateJob', ledger: target.ledger, claimCheck: target.claimCheck }, startedBy, clients, true);
    }
    if (target.destinations.some((d) => d.kind === 'fargate') && !this.fargate) {
      throw new Error('dispatcher config routes jobs to Fargate but has no Fargate job');
    }
  }

  public async beginBatch(context: BatchContext): Promise<void> {
    this.routed.clear();
    await this.fargate?.beginBatch(context);
  }

  /** The route of one job (pure: benchmarked as routeDecisionMicros). */
  public decide(job: Job): RouteDecision {
    return decideRoute(job, this.target.rules, this.target.otherwise);
  }

  public async launch(request: LaunchRequest, context: BatchContext): Promise<string[]> {
    if (request.overrides) {
      // A relaunch (tracker retry, failed-job redrive) comes from a Fargate run: it stays on Fargate.
      return this.requireFargate('a relaunch').launch(request, context);
    }
    // Decide and prepare every job first: a permanent error dead-letters the record before any job starts.
    const plans = request.jobs.map((job) => {
      const decision = this.decide(job);
      const destination = this.target.destinations[decision.destination];
      if (!destination) throw new PermanentError(`route destination ${decision.destination} does not exist`);
      if (destination.kind === 'fargate') {
        this.requireFargate('a Fargate route').prepare(job);
        return { job, decision, destination, lambda: undefined };
      }
      return { job, decision, destination, lambda: this.prepareLambda(job, destination, request.run) };
    });
    for (const p of plans) {
      context.log('INFO', 'job routed', { jobId: p.job.id, compute: p.destination.kind, reason: p.decision.reason });
      this.count(p.destination.kind);
    }
    const fargateJobs = plans.filter((p) => p.destination.kind === 'fargate').map((p) => p.job);
    const results = await Promise.allSettled([
      ...(fargateJobs.length ? [this.fargate!.launch({ ...request, jobs: fargateJobs }, context)] : []),
      ...plans.filter((p) => p.lambda)
        .map((p) => this.launchLambda(p.job, p.destination as LambdaDestination, p.lambda!, p.decision, request, context)),
    ]);
    const failed = results.flatMap((r) => r.status === 'rejected' ? [r.reason] : []);
    const permanent = failed.find((e) => e instanceof PermanentError);
    if (permanent) throw permanent;
    const deferred = failed.find((e) => e?.name === 'DeferredError');
    if (deferred && failed.length === 1) throw deferred;
    if (failed.length > 0) throw new RetryableError(failed.map((e) => errorText(e, isDispatchError)).join('; '));
    this.emitRouted();
    return request.jobs.map((j) => j.id);
  }

  /**
   * Settles the record a function's destination sent back: records the
   * run's outcome, and spills a run Lambda could not finish over to Fargate.
   * `redriven`: the record was dead-lettered before and moved back by a
   * user, which asks to run the job again (as the next run, on the same function).
   */
  public async settle(invocation: InvocationRecord, record: SqsRecord, receiveCount: number, redriven: boolean,
    context: BatchContext): Promise<Settlement> {
    const event = invocation.requestPayload;
    const hc = event.hc;
    if (hc.dispatcher !== this.startedBy) {
      throw new PermanentError(`invocation record of dispatcher '${hc.dispatcher}', not this one ('${this.startedBy}')`);
    }
    const destination = this.target.destinations.find((d): d is LambdaDestination => d.kind === 'lambda'
      && sameFunction(d.functionArn, invocation.requestContext.functionArn));
    const key = ledgerKey(this.startedBy, hc.jobId);
    // A claim-checked event carries only the job id: its fields were resolved (spillover overrides) at routing.
    const job = event.job ?? { id: hc.jobId, source: 'sqs', fields: {}, event: null } as unknown as Job;
    // The record must be of a run this dispatcher invoked, with what it sent: a worker can send to the
    // outcome queue, and a forged or altered record must not start (or spill) anything.
    const item = await this.clients.ledger.get(key, untilDeadline(context));
    if (!item) {
      throw new PermanentError(`invocation record of job ${hc.jobId} run ${hc.run}, which the ledger does not know (expired, or not sent by this dispatcher)`);
    }
    if (item.run > hc.run) {
      return { status: 'skipped', reason: `run ${hc.run} ended on Lambda; the job has moved on to run ${item.run}` };
    }
    if (item.run < hc.run || item.compute !== 'lambda' || item.payloadHash !== payloadHash(event)) {
      throw new PermanentError(`invocation record of job ${hc.jobId} run ${hc.run} does not match what this dispatcher sent (ledger: run ${item.run}, `
        + `${item.compute ?? 'fargate'}): not settled`);
    }
    if (redriven) {
      // Moved back from the dead-letter queue: run the job again, unless its run succeeded after all.
      if (item.outcomeRun === hc.run && item.status === JobStatus.SUCCEEDED) {
        return { status: 'skipped', reason: `run ${hc.run} succeeded: not run again` };
      }
      if (!destination) throw new PermanentError(`invocation record of a function this route does not invoke (${invocation.requestContext.functionArn})`);
      const prepared = { payload: { ...event, hc: { ...hc, run: hc.run + 1 } } };
      await this.launchLambda(job, destination, prepared, { destination: -1, reason: 'redriven by a user' }, {
        record, jobs: [job], attempt: 1, receiveCount, run: hc.run + 1,
      }, context);
      return { status: 'launched', reason: `relaunched on ${destination.functionArn} as run ${hc.run + 1}`, jobs: [hc.jobId] };
    }
    const own = classifyInvocation(invocation);
    const canSpill = destination?.spillover === true && this.fargate !== undefined;
    const invocationId = `lambda:${invocation.requestContext.requestId ?? 'unknown'}`;
    const ownSpill = !own.succeeded && own.spillable && canSpill;
    const recorded = await this.clients.ledger.recordLambdaOutcome(key, {
      jobId: hc.jobId,
      dispatcher: this.startedBy,
      run: hc.run,
      attempt: hc.attempt,
      invocation: invocationId,
      outcome: own.succeeded ? JobOutcome.SUCCEEDED : own.cause === 'timeout' ? JobOutcome.TIMED_OUT : JobOutcome.FAILED,
      reason: ownSpill ? `${own.reason}: spilled over to Fargate` : own.reason,
      status: own.succeeded ? JobStatus.SUCCEEDED : ownSpill ? JobStatus.RETRYING : JobStatus.FAILED,
    });
    if (recorded.kind === 'stale') {
      return { status: 'skipped', reason: `run ${hc.run} was settled or moved on (ledger run ${recorded.record?.run ?? 'none'})` };
    }
    // One outcome per run: a second record of the run (a duplicate, or a second invocation of an
    // at-least-once run that disagrees) acts on the outcome recorded first, not on its own.
    const first = recorded.record;
    const outcome = recorded.kind === 'recorded' ? own : {
      succeeded: first.status === JobStatus.SUCCEEDED,
      spillable: first.status === JobStatus.RETRYING,
      cause: first.status === JobStatus.SUCCEEDED ? 'success' : first.status === JobStatus.RETRYING ? 'spilled' : 'error',
      reason: String(first.reason ?? '').replace(/: spilled over to Fargate$/, ''),
    };
    const spill = !outcome.succeeded && outcome.spillable && canSpill;
    context.log(outcome.succeeded ? 'INFO' : 'WARN', 'lambda run ended', {
      jobId: hc.jobId, run: hc.run, cause: outcome.cause, reason: outcome.reason, spillover: spill, ledger: recorded.kind,
    });
    if (recorded.kind === 'recorded') {
      this.emitOutcome(outcome.succeeded, outcome.cause, spill);
      if (destination) this.emitCost(destination, first.reservedAt, invocation.timestamp);
    }
    if (!spill && !first.eventSent) {
      await this.publishOutcome(key, first.outcomeTask ?? invocationId, hc, destination, outcome);
    }
    if (outcome.succeeded) return { status: 'skipped', reason: 'lambda run succeeded' };
    if (!spill) {
      // The job ran and failed: it waits in the dead-letter queue with the reason (redrive it to run again).
      throw new PermanentError(`job ${hc.jobId} run ${hc.run} on Lambda: ${outcome.reason}`);
    }
    // The job's overrides are resolved again from the job the record carries (as for any job of
    // the route); only a job too large for the worker's event comes with them computed at routing.
    const jobs = await this.fargate!.launch({
      record,
      jobs: [job],
      attempt: 1,
      receiveCount,
      run: hc.run + 1,
      ...(event.job ? {} : { overrides: (hc.spillover?.overrides ?? { containerOverrides: [] }) as TaskOverrides }),
      spilledOver: outcome.reason,
    }, context);
    this.count('spillover');
    this.emitRouted();
    return { status: 'launched', reason: `spilled over to Fargate: ${outcome.reason}`, jobs };
  }

  /**
   * `Job Succeeded` / `Job Failed` of a Lambda run, as the tracker publishes
   * them for tasks (with `compute: lambda`), once per run: marked in the
   * ledger, so a record delivered again publishes only what did not go out.
   */
  private async publishOutcome(key: string, invocationId: string, hc: LambdaJobEvent['hc'], destination: LambdaDestination | undefined,
    outcome: ReturnType<typeof classifyInvocation>): Promise<void> {
    const bus = this.target.eventBusName;
    if (!bus || !this.clients.putEvent) return;
    await this.clients.putEvent(bus, EVENT_SOURCE, outcome.succeeded ? DETAIL_TYPE_SUCCEEDED : DETAIL_TYPE_FAILED, {
      jobId: hc.jobId,
      outcome: outcome.succeeded ? JobOutcome.SUCCEEDED : JobOutcome.FAILED,
      reason: outcome.reason,
      run: hc.run,
      attempt: hc.attempt,
      taskArn: invocationId,
      compute: 'lambda',
      dispatcher: this.startedBy,
      ...(destination ? { functionArn: destination.functionArn } : {}),
    });
    await this.clients.ledger.markStep(key, invocationId, 'eventSent');
  }

  private requireFargate(what: string): FargateLauncher {
    if (!this.fargate) throw new PermanentError(`${what} needs the route's Fargate job, and this route has none`);
    return this.fargate;
  }

  /** The worker's event (or its claim-check document), and the overrides the job spills over with. */
  private prepareLambda(job: Job, destination: LambdaDestination, run: number): PreparedLambdaJob {
    const spillable = destination.spillover && this.fargate !== undefined;
    // A job the Fargate job cannot run (a field it maps is missing) fails here, before anything starts.
    const spillPrepared = spillable ? this.fargate!.prepare(job) : undefined;
    const hc: LambdaJobEvent['hc'] = {
      version: LAMBDA_JOB_VERSION,
      dispatcher: this.startedBy,
      jobId: job.id,
      run,
      attempt: 0, // set at launch, from the ledger
      compute: 'lambda',
      route: '',
    };
    const payload: LambdaJobEvent = { hc, job };
    const size = Buffer.byteLength(JSON.stringify(payload), 'utf8');
    // The job travels in the event (and comes back in the record): a spillover resolves its overrides then.
    if (size <= MAX_LAMBDA_EVENT_BYTES) return { payload };
    const claimCheck = this.target.claimCheck;
    if (!claimCheck) {
      throw new PermanentError(`the Lambda worker's event would be ${size} bytes, over the ${MAX_LAMBDA_EVENT_BYTES} the route sends `
        + '(the invocation record must fit an SQS message): enable the claim check, or route large jobs to Fargate');
    }
    const body = JSON.stringify({ version: 1, job });
    const location = claimCheckLocation(claimCheck, destination.functionArn, job.id, body);
    // Too large to travel in the event: the record brings back only the URI, so the overrides a spillover uses are computed now.
    const spillover = spillPrepared ? { spillover: spillPrepared.overrides ? { overrides: spillPrepared.overrides } : {} } : {};
    return {
      payload: { hc: { ...hc, ...spillover }, payloadUri: location.uri },
      document: { key: location.key, body },
      spillDocument: spillPrepared?.claimCheck,
    };
  }

  /**
   * One asynchronous invocation per run, through the ledger: the attempt is
   * reserved before Invoke and its request id recorded after. Lambda's
   * Invoke takes no idempotency token: an invocation whose answer was lost
   * is invoked again by a later delivery once its lease ends (at least once;
   * the worker gets the job id and run to be idempotent).
   */
  private async launchLambda(job: Job, destination: LambdaDestination,
    prepared: PreparedLambdaJob,
    decision: RouteDecision, request: LaunchRequest, context: BatchContext): Promise<void> {
    const ledger = this.clients.ledger;
    const key = ledgerKey(this.startedBy, job.id);
    const run = request.run;
    const me = randomUUID();
    const leaseUntil = context.deadline + (this.target.ledger.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS);
    const hash = payloadHash(prepared.payload);
    const reservation = (attempt: number) => ({
      owner: me,
      leaseUntil,
      jobId: job.id,
      dispatcher: this.startedBy,
      run,
      attempt,
      capacity: 'primary' as const,
      enqueuedAt: request.enqueuedAt,
      compute: 'lambda' as const,
      payloadHash: hash,
    });
    let record: LedgerRecord | undefined;
    let attempt = 0;
    for (let step = 0; step < 20 && attempt === 0; step++) {
      if (step === 0) {
        const first = await ledger.reserve(key, undefined, reservation(request.attempt), untilDeadline(context));
        if (first.won) {
          attempt = request.attempt;
          break;
        }
        record = first.current ?? await ledger.get(key, untilDeadline(context));
        continue;
      }
      if (!record) {
        const again = await ledger.reserve(key, undefined, reservation(request.attempt), untilDeadline(context));
        if (again.won) attempt = request.attempt;
        else record = again.current ?? await ledger.get(key, untilDeadline(context));
        continue;
      }
      // Done: a later run, this run launched or settled, or this run is on Fargate (a spillover's).
      if (record.run > run || (record.run === run && (record.attemptState === 'launched' || record.outcomeRun === run || record.compute === 'fargate'))) {
        context.log('INFO', record.run > run ? 'job superseded by a later run' : 'job already launched', { jobId: job.id, run, ledgerRun: record.run });
        return;
      }
      if (record.run === run && record.attemptState === 'open') {
        if (record.owner !== me && (record.leaseUntil ?? 0) > this.now()) {
          throw new RetryableError(`job ${job.id}: run ${run} is being invoked by another delivery: left in the queue until its lease ends`);
        }
        const takeover = await ledger.takeOver(key, record, me, leaseUntil, untilDeadline(context));
        if (takeover.won) attempt = record.attempt;
        else record = takeover.current ?? await ledger.get(key, untilDeadline(context));
        continue;
      }
      const next = await ledger.reserve(key, record, reservation(record.attempt + 1), untilDeadline(context));
      if (next.won) attempt = record.attempt + 1;
      else record = next.current ?? await ledger.get(key, untilDeadline(context));
    }
    if (attempt === 0) throw new RetryableError(`job ${job.id}: the ledger item kept changing under concurrent deliveries`);
    for (const doc of [prepared.document, prepared.spillDocument]) {
      if (doc) await this.clients.putObject!(`${this.target.claimCheck!.endpoint}/${doc.key}`, doc.body);
    }
    const payload: LambdaJobEvent = { ...prepared.payload, hc: { ...prepared.payload.hc, run, attempt, route: decision.reason } };
    let requestId: string;
    try {
      requestId = await this.clients.invoke(destination.functionArn, JSON.stringify(payload), untilDeadline(context));
    } catch (e) {
      if ((e as { answered?: boolean }).answered) {
        // Lambda answered (throttled, an error): nothing was queued, the next delivery may invoke at once.
        await ledger.recordFailure(key, run, attempt, errorText(e), untilDeadline(context)).catch(() => undefined);
        // 403 (permissions still propagating after a deploy) and 409 (the function is being updated) pass; other 4xx do not.
        const status = (e as { statusCode?: number }).statusCode;
        if (status !== undefined && status >= 400 && status < 500 && ![403, 409, 429].includes(status)) {
          throw new PermanentError(`job ${job.id}: ${errorText(e)}`);
        }
      }
      throw e;
    }
    await ledger.recordLaunch(key, run, attempt, `lambda:${requestId}`, untilDeadline(context));
    context.log('INFO', 'job invoked', { jobId: job.id, run, attempt, functionArn: destination.functionArn, requestId });
  }

  private count(what: string): void {
    this.routed.set(what, (this.routed.get(what) ?? 0) + 1);
  }

  /** `JobsRouted` by compute model (lambda, fargate, spillover) for this batch. */
  private emitRouted(): void {
    if (this.clients.metrics === false) return;
    for (const [compute, value] of this.routed) {
      emitMetrics({ Dispatcher: this.startedBy, Compute: compute }, [['Dispatcher', 'Compute']], [{ name: 'JobsRouted', value, unit: 'Count' }]);
    }
    this.routed.clear();
  }

  /**
   * `EstimatedCost` of a Lambda run (its duration taken from the ledger's
   * reservation, just before Invoke, until the record's time: it includes
   * Lambda's queueing, an upper bound) and `EstimatedCostOtherModel`, the
   * same run as a task of the route's Fargate job.
   */
  private emitCost(destination: LambdaDestination, reservedAt: number | undefined, endedAt: string | undefined): void {
    if (this.clients.metrics === false || reservedAt === undefined || !endedAt) return;
    const durationMs = Math.max(1, Date.parse(endedAt) - reservedAt);
    if (!Number.isFinite(durationMs) || durationMs < 0) return;
    const costs = lambdaRunCosts(destination, durationMs, this.target.fargateShape);
    emitMetrics({ Dispatcher: this.startedBy, Compute: 'lambda' }, [['Dispatcher', 'Compute']], [
      { name: 'EstimatedCost', value: costs.lambda, unit: 'None' },
      ...(costs.fargate !== undefined ? [{ name: 'EstimatedCostOtherModel', value: costs.fargate, unit: 'None' as const }] : []),
    ]);
  }

  /** `JobsSucceeded` / `JobsFailed` of Lambda runs (a spilled run is neither: its Fargate run ends it). */
  private emitOutcome(succeeded: boolean, cause: string, spilled: boolean): void {
    if (this.clients.metrics === false || spilled) return;
    emitMetrics({ Dispatcher: this.startedBy, Compute: 'lambda', Cause: cause }, [['Dispatcher', 'Compute']],
      [{ name: succeeded ? 'JobsSucceeded' : 'JobsFailed', value: 1, unit: 'Count' }]);
  }
}

/** Estimated dollars of a Lambda run, and what the same run would have cost as a task of the route's Fargate job. */
export function lambdaRunCosts(destination: LambdaDestination, durationMs: number, fargate: RouteTargetConfig['fargateShape']): { lambda: number; fargate?: number } {
  const lambda = lambdaJobCost({ memoryMiB: destination.memoryMiB, arm64: destination.arm64, durationMs }).dollars;
  if (!fargate) return { lambda };
  try {
    return { lambda, fargate: fargateJobCost({ ...fargate, spot: fargate.spot && !fargate.arm64, durationMs }).dollars };
  } catch {
    return { lambda }; // a size the price list does not know: no comparison
  }
}

/**
 * What a Lambda run was sent, as a hash the ledger keeps: its invocation
 * record must carry the same job (or claim-check URI and spillover
 * overrides) for the same run, or it is not settled.
 */
export function payloadHash(event: LambdaJobEvent): string {
  // Canonical JSON (sorted keys, numbers as JavaScript writes them): Lambda may echo the event re-serialized.
  const parts = [event.hc.jobId, event.hc.run, event.job ?? null, event.payloadUri ?? null, event.hc.spillover ?? null];
  const content = canonicalJson(JSON.parse(JSON.stringify(parts)));
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** An invocation record names the function by ARN, possibly with `:$LATEST` or a version. */
function sameFunction(configured: string, reported: string | undefined): boolean {
  if (!reported) return false;
  const base = (arn: string) => arn.split(':').slice(0, 7).join(':');
  return configured === reported || base(configured) === base(reported);
}
