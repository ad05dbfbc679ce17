import { dynamoEndpoint, DynamoError, dynamoTransport, DynamoTransport, marshall, unmarshallItem } from './dynamodb';
import type { SigningOptions } from './signed-request';
import type { LedgerConfig } from '../../contract/dispatch-config';
import { AttemptCapacity, JobStatus, LEDGER_KEY, LEDGER_TTL_ATTRIBUTE, LedgerRecord } from '../../contract/ledger';

/** The ledger of a handler's config, over DynamoDB with the given signing (the ECS client's handler and credentials). */
export function ledgerStore(config: LedgerConfig, signing: SigningOptions & { region: () => Promise<string> }, endpoint?: string): JobLedgerStore {
  const transport = dynamoTransport({ ...signing, endpoint: endpoint ? async () => endpoint : dynamoEndpoint(signing.region) });
  return new JobLedgerStore(transport, config.table, config.ttlSeconds);
}

/** A reservation of the next attempt of a job's token chain. */
export interface Reservation {
  /** The delivery that reserves (and alone may try) the attempt, until `leaseUntil` (epoch ms). */
  readonly owner: string;
  readonly leaseUntil: number;
  readonly jobId: string;
  readonly dispatcher: string;
  readonly run: number;
  readonly attempt: number;
  readonly capacity: AttemptCapacity;
  /** First enqueue of the job (kept from the first reservation on). */
  readonly enqueuedAt?: number;
  /** Where the run runs (routing dispatchers): `lambda` or `fargate`. */
  readonly compute?: 'lambda' | 'fargate';
  /** Why the run left Lambda for Fargate (spillover). */
  readonly spilledOver?: string;
  /** SHA-256 of what a Lambda run was sent (its invocation record must carry the same). */
  readonly payloadHash?: string;
  /** A child of an array job: its parent's job id and its index. */
  readonly arrayJobId?: string;
  readonly arrayIndex?: number;
}

/** An array job's parent, as its first delivery creates it. */
export interface ArrayParent {
  readonly jobId: string;
  readonly dispatcher: string;
  readonly size: number;
  readonly failParent: boolean;
  readonly enqueuedAt?: number;
}

/** What counting a child's final outcome into its parent found. */
export interface ChildCount {
  /** False when the child was counted before (a repeated or late stop event). */
  readonly counted: boolean;
  /** The parent item after the count (or as it was, when not counted); undefined when there is none. */
  readonly parent?: LedgerRecord;
}

/** The outcome of a run on a Lambda worker (from its invocation record). */
export interface LambdaRunOutcome {
  readonly jobId: string;
  readonly dispatcher: string;
  readonly run: number;
  readonly attempt: number;
  /** `lambda:<request id>` of the invocation the record reports. */
  readonly invocation: string;
  readonly outcome: string;
  readonly reason: string;
  readonly status: JobStatus;
}

/** What recording an outcome found. */
export type OutcomeRecording =
  | { readonly kind: 'recorded'; readonly record: LedgerRecord }
  /** This task's outcome was recorded before: `record` holds it (one outcome per task). */
  | { readonly kind: 'duplicate'; readonly record: LedgerRecord }
  /** The job has moved on to a later run, or another task: nothing recorded. */
  | { readonly kind: 'stale'; readonly record?: LedgerRecord };

/** What a conditional write found: the item as written (when asked), or as it was when the condition failed. */
type UpdateResult = { readonly won: true; readonly item?: LedgerRecord } | { readonly won: false; readonly current?: LedgerRecord };

/** An outcome the tracker records. */
export interface Outcome {
  readonly jobId: string;
  readonly dispatcher: string;
  readonly run: number;
  readonly taskArn: string;
  readonly outcome: string;
  readonly reason: string;
  readonly exitCode?: number;
  readonly status: JobStatus;
  readonly stoppedAt?: string;
  /** The retry rule that decided (when one matched). */
  readonly retryRule?: string;
}

const isConditionFailure = (e: unknown) => e instanceof DynamoError && e.type === 'ConditionalCheckFailedException';

/**
 * The job ledger: one DynamoDB item per job (see `src/contract/ledger.ts`),
 * every write conditional on what the writer read, so that concurrent
 * deliveries of one job converge instead of racing.
 */
export class JobLedgerStore {
  constructor(
    private readonly call: DynamoTransport,
    private readonly table: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The job's item (strongly consistent), or undefined when the job is new. */
  public async get(key: string, abortSignal?: AbortSignal): Promise<LedgerRecord | undefined> {
    const out = await this.call('GetItem', { TableName: this.table, Key: { [LEDGER_KEY]: { S: key } }, ConsistentRead: true }, abortSignal);
    return unmarshallItem(out.Item) as LedgerRecord | undefined;
  }

  /**
   * Reserves the next attempt: for a new job, after a failed attempt, or for
   * a new run. Conditional on the item being as `base` was read (absent, for
   * a new job). When the condition fails, resolves to the item as it is
   * (returned by the failed write: no second read), or undefined when
   * there is none.
   */
  public async reserve(key: string, base: LedgerRecord | undefined, next: Reservation,
    abortSignal?: AbortSignal): Promise<UpdateResult> {
    const now = this.now();
    const newRun = base !== undefined && next.run !== base.run;
    return this.update(key, {
      set: {
        jobId: next.jobId,
        dispatcher: next.dispatcher,
        run: next.run,
        attempt: next.attempt,
        attemptState: 'open',
        attemptCapacity: next.capacity,
        reservedAt: now,
        owner: next.owner,
        leaseUntil: next.leaseUntil,
        status: JobStatus.LAUNCHING,
        updatedAt: new Date(now).toISOString(),
        [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds,
        ...(next.compute ? { compute: next.compute } : {}),
        ...(next.spilledOver ? { spilledOver: next.spilledOver.slice(0, 1000) } : {}),
        ...(next.payloadHash ? { payloadHash: next.payloadHash } : {}),
        ...(next.arrayJobId !== undefined ? { arrayJobId: next.arrayJobId, arrayIndex: next.arrayIndex } : {}),
      },
      setIfMissing: {
        createdAt: new Date(now).toISOString(),
        tasks: [],
        ...(next.enqueuedAt !== undefined ? { enqueuedAt: next.enqueuedAt } : {}),
      },
      remove: newRun ? ['taskArn', 'lastFailure', 'launchedAt', 'notCalled'] : ['lastFailure', 'notCalled'],
      // A child cancelled meanwhile (its array failed) is never reserved again.
      condition: base
        ? {
          expression: '#run = :baseRun AND #attempt = :baseAttempt AND #attemptState = :baseState AND attribute_not_exists(#cancelled)',
          values: { baseRun: base.run, baseAttempt: base.attempt, baseState: base.attemptState },
        }
        : { expression: `attribute_not_exists(#${LEDGER_KEY})`, values: {} },
      returnOld: true,
    }, abortSignal);
  }

  /**
   * Takes over an open attempt whose owner's lease has ended (conditional on
   * the item being as read): the caller may then try the attempt's token.
   */
  public async takeOver(key: string, base: LedgerRecord, owner: string, leaseUntil: number,
    abortSignal?: AbortSignal): Promise<UpdateResult> {
    const now = this.now();
    return this.update(key, {
      set: { owner, leaseUntil, updatedAt: new Date(now).toISOString() },
      remove: ['notCalled'],
      condition: {
        expression: '#run = :run AND #attempt = :attempt AND #attemptState = :open AND (#owner = :previous OR attribute_not_exists(#owner)) '
          + 'AND attribute_not_exists(#cancelled)',
        values: { run: base.run, attempt: base.attempt, open: 'open', previous: base.owner ?? '' },
      },
      returnOld: true,
    }, abortSignal);
  }

  /**
   * Ends the owner's lease early: its RunTask call got an answer that
   * started nothing definite (throttled, a server error), so no call of its
   * is still in flight and the next delivery may try the token at once.
   */
  public async release(key: string, run: number, attempt: number, owner: string, notCalled = false): Promise<void> {
    await this.updated(key, {
      // `notCalled`: RunTask was never called with this token (the task cap deferred it): nothing can have started.
      set: { leaseUntil: 0, updatedAt: new Date(this.now()).toISOString(), ...(notCalled ? { notCalled: true } : {}) },
      ...(notCalled ? {} : { remove: ['notCalled'] }),
      condition: { expression: '#run = :run AND #attempt = :attempt AND #owner = :owner', values: { run, attempt, owner } },
    });
  }

  /** Records the task an attempt started (idempotent: a second delivery that got the same task back records nothing). */
  public async recordLaunch(key: string, run: number, attempt: number, taskArn: string, abortSignal?: AbortSignal): Promise<boolean> {
    const now = this.now();
    return this.updated(key, {
      set: {
        attemptState: 'launched',
        taskArn,
        status: JobStatus.LAUNCHED,
        launchedAt: new Date(now).toISOString(),
        updatedAt: new Date(now).toISOString(),
        [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds,
      },
      append: { tasks: [taskArn] },
      // Not over an outcome of the same run (a task that stopped, or a Lambda run settled, before its launch was recorded).
      condition: {
        expression: '#run = :run AND #attempt = :attempt AND #attemptState <> :launched AND (attribute_not_exists(#outcomeRun) OR #outcomeRun <> :run)',
        values: { run, attempt, launched: 'launched' },
      },
    }, abortSignal);
  }

  /** Records that an attempt started no task, so the next delivery may reserve the next token. */
  public async recordFailure(key: string, run: number, attempt: number, reason: string, abortSignal?: AbortSignal): Promise<boolean> {
    const now = this.now();
    return this.updated(key, {
      set: { attemptState: 'failed', lastFailure: reason.slice(0, 1000), status: JobStatus.LAUNCH_FAILED, updatedAt: new Date(now).toISOString() },
      condition: { expression: '#run = :run AND #attempt = :attempt AND #attemptState = :open', values: { run, attempt, open: 'open' } },
    }, abortSignal);
  }

  /**
   * Records the outcome of the task of run `outcome.run`, once per task: a
   * second (even disagreeing) stop event of the same task gets the first
   * outcome back; an event of an older run or another task records nothing.
   */
  public async recordOutcome(key: string, outcome: Outcome): Promise<OutcomeRecording> {
    const now = this.now();
    const set = {
      jobId: outcome.jobId,
      dispatcher: outcome.dispatcher,
      outcome: outcome.outcome,
      reason: outcome.reason.slice(0, 1000),
      outcomeRun: outcome.run,
      outcomeTask: outcome.taskArn,
      status: outcome.status,
      retrySent: false,
      failedJobSent: false,
      eventSent: false,
      updatedAt: new Date(now).toISOString(),
      [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds,
      ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
      ...(outcome.stoppedAt ? { stoppedAt: outcome.stoppedAt } : {}),
      ...(outcome.retryRule ? { retryRule: outcome.retryRule.slice(0, 600) } : {}),
    };
    // One write: the item as written when it records, the item as it was when it does not.
    const result = await this.update(key, {
      set,
      // A task the dispatcher could not record (it stopped first) is the run's task all the same.
      // The outcome's fields describe one run: no rule from an earlier run's outcome stays.
      remove: outcome.retryRule ? [] : ['retryRule'],
      setIfMissing: { taskArn: outcome.taskArn, run: outcome.run, attempt: 0, attemptState: 'launched', attemptCapacity: 'primary', reservedAt: now, createdAt: set.updatedAt, tasks: [outcome.taskArn] },
      condition: {
        expression: `attribute_not_exists(#${LEDGER_KEY}) OR (#run = :run AND (#taskArn = :task OR attribute_not_exists(#taskArn)) `
          + 'AND (attribute_not_exists(#outcomeTask) OR #outcomeTask <> :task))',
        values: { run: outcome.run, task: outcome.taskArn },
      },
      returnOld: true,
      returnNew: true,
    });
    if (result.won) return { kind: 'recorded', record: result.item! };
    const record = result.current;
    if (record && record.outcomeTask === outcome.taskArn) return { kind: 'duplicate', record };
    return { kind: 'stale', record };
  }

  /**
   * Records how run `outcome.run` ended on its Lambda worker, once per run:
   * a second record of the run (a duplicate delivery, or a second
   * invocation of an at-least-once run) gets the first outcome back.
   */
  public async recordLambdaOutcome(key: string, outcome: LambdaRunOutcome): Promise<OutcomeRecording> {
    const now = this.now();
    const result = await this.update(key, {
      set: {
        outcome: outcome.outcome,
        reason: outcome.reason.slice(0, 1000),
        outcomeRun: outcome.run,
        outcomeTask: outcome.invocation,
        status: outcome.status,
        eventSent: false,
        stoppedAt: new Date(now).toISOString(),
        updatedAt: new Date(now).toISOString(),
        [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds,
      },
      condition: {
        expression: '#run = :run AND #attempt = :attempt AND (attribute_not_exists(#outcomeRun) OR #outcomeRun <> :run)',
        values: { run: outcome.run, attempt: outcome.attempt },
      },
      returnOld: true,
      returnNew: true,
    });
    if (result.won) return { kind: 'recorded', record: result.item! };
    const record = result.current;
    if (record && record.run === outcome.run && record.outcomeRun === outcome.run) return { kind: 'duplicate', record };
    return { kind: 'stale', record };
  }

  /**
   * The parent item of an array job: created by its first delivery (whose
   * size holds for every later one), refreshed by the others. Resolves to
   * the item; undefined when the job's item exists but is not an array job.
   */
  public async beginArray(key: string, parent: ArrayParent, abortSignal?: AbortSignal): Promise<LedgerRecord | undefined> {
    const now = this.now();
    const result = await this.update(key, {
      set: { updatedAt: new Date(now).toISOString(), [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds },
      setIfMissing: {
        jobId: parent.jobId,
        dispatcher: parent.dispatcher,
        arraySize: parent.size,
        arrayLaunched: 0,
        arrayAttempted: 0,
        arrayProgressAt: now,
        arrayFailParent: parent.failParent,
        childrenDone: [],
        childrenSucceeded: 0,
        childrenFailed: 0,
        childrenCancelled: 0,
        status: JobStatus.LAUNCHING,
        tasks: [],
        createdAt: new Date(now).toISOString(),
        ...(parent.enqueuedAt !== undefined ? { enqueuedAt: parent.enqueuedAt } : {}),
      },
      condition: { expression: `attribute_not_exists(#${LEDGER_KEY}) OR attribute_exists(#arraySize)`, values: {} },
      returnNew: true,
    }, abortSignal);
    return result.won ? result.item : undefined;
  }

  /**
   * Moves an array job's launch cursor from `from` to `to` (children before
   * it are launched). When another delivery moved it first, resolves to the
   * item as it is.
   */
  public async advanceArray(key: string, from: number, to: number, abortSignal?: AbortSignal): Promise<UpdateResult> {
    const now = this.now();
    return this.update(key, {
      set: { arrayLaunched: to, arrayProgressAt: now, updatedAt: new Date(now).toISOString() },
      condition: { expression: '#arrayLaunched = :from', values: { from } },
      returnOld: true,
      returnNew: true,
    }, abortSignal);
  }

  /**
   * Marks children up to `end` as tried, before a delivery launches them:
   * a cancellation never counts them in bulk. Fails (resolving to the item)
   * when the parent has failed under `failParent`, so nothing more launches.
   */
  public async markAttempted(key: string, end: number, abortSignal?: AbortSignal): Promise<UpdateResult> {
    return this.update(key, {
      set: { arrayAttempted: end, updatedAt: new Date(this.now()).toISOString() },
      condition: {
        expression: '#arrayAttempted < :end AND NOT (#arrayFailParent = :yes AND #status = :failed)',
        values: { end, yes: true, failed: JobStatus.FAILED },
      },
      returnOld: true,
      returnNew: true,
    }, abortSignal);
  }

  /**
   * Cancels, in one write, the children of a failed parent that no delivery
   * ever tried (from `from`, its `arrayAttempted`, on): they are counted as
   * cancelled and never launch.
   */
  public async cancelUntried(key: string, from: number, size: number, abortSignal?: AbortSignal): Promise<UpdateResult> {
    return this.update(key, {
      // `arrayCancelledFrom`: the children counted here; a delivery cancelling one by one stops before them.
      set: { arrayAttempted: size, arrayCancelledFrom: from, updatedAt: new Date(this.now()).toISOString() },
      add: { childrenCancelled: size - from },
      condition: { expression: '#arrayAttempted = :from AND #status = :failed', values: { from, failed: JobStatus.FAILED } },
      returnOld: true,
      returnNew: true,
    }, abortSignal);
  }

  /**
   * Cancels one child that was tried but started no task (no item, or its
   * last attempt failed): it never launches. An item with an open attempt
   * or a task is left alone (resolves `won: false` with it).
   */
  public async cancelChild(key: string, child: { jobId: string; dispatcher: string; arrayJobId: string; arrayIndex: number },
    abortSignal?: AbortSignal): Promise<UpdateResult> {
    const now = this.now();
    return this.update(key, {
      set: {
        ...child,
        cancelled: true,
        status: JobStatus.CANCELLED,
        updatedAt: new Date(now).toISOString(),
        [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds,
      },
      setIfMissing: { createdAt: new Date(now).toISOString(), tasks: [] },
      condition: {
        expression: `attribute_not_exists(#${LEDGER_KEY}) OR #cancelled = :yes OR (#attemptState = :failed AND attribute_not_exists(#taskArn)) `
          + 'OR (#attemptState = :open AND #notCalled = :yes AND attribute_not_exists(#taskArn))',
        values: { yes: true, failed: 'failed', open: 'open' },
      },
      returnOld: true,
      returnNew: true,
    }, abortSignal);
  }

  /**
   * Counts child `index`'s final outcome into its parent, once per child
   * (its index joins `childrenDone` in the same write). A failure under
   * `failParent` fails the parent.
   */
  public async countChild(key: string, index: number, outcome: 'succeeded' | 'failed' | 'cancelled', failParent: boolean,
    abortSignal?: AbortSignal): Promise<ChildCount> {
    const now = this.now();
    const counter = outcome === 'succeeded' ? 'childrenSucceeded' : outcome === 'failed' ? 'childrenFailed' : 'childrenCancelled';
    const result = await this.update(key, {
      set: {
        updatedAt: new Date(now).toISOString(),
        [LEDGER_TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.ttlSeconds,
        ...(outcome === 'failed' && failParent ? { status: JobStatus.FAILED } : {}),
      },
      append: { childrenDone: [index] },
      add: { [counter]: 1 },
      condition: { expression: 'attribute_exists(#arraySize) AND NOT contains(#childrenDone, :index)', values: { index } },
      returnOld: true,
      returnNew: true,
    }, abortSignal);
    return result.won ? { counted: true, parent: result.item } : { counted: false, parent: result.current };
  }

  /**
   * Claims the completion event of an array job whose children are all
   * done, for `leaseMs`: only its claimant publishes it. Once the lease
   * ends (a claimant that died) anyone may claim it again.
   */
  public async claimCompletion(key: string, claimant: string, status: JobStatus, leaseMs = 60_000): Promise<boolean> {
    const now = this.now();
    return this.updated(key, {
      set: {
        completionBy: claimant, claimUntil: now + leaseMs, status, completedAt: new Date(now).toISOString(), updatedAt: new Date(now).toISOString(),
      },
      condition: {
        expression: '(attribute_not_exists(#completionBy) OR #claimUntil < :now) AND (attribute_not_exists(#completionSent) OR #completionSent <> :sent)',
        values: { now, sent: true },
      },
    });
  }

  /** Gives a claim back at once (its publish failed): the next caller may claim it. */
  public async releaseCompletion(key: string, claimant: string): Promise<void> {
    await this.updated(key, {
      set: { claimUntil: 0, updatedAt: new Date(this.now()).toISOString() },
      condition: { expression: '#completionBy = :by', values: { by: claimant } },
    });
  }

  /** Records that the completion event of an array job is published. */
  public async markCompletionSent(key: string, by: string): Promise<void> {
    await this.updated(key, {
      set: { completionSent: true, updatedAt: new Date(this.now()).toISOString() },
      condition: { expression: '#completionBy = :by', values: { by } },
    });
  }

  /** Marks a tracker step done for the outcome of `taskArn`. */
  public async markStep(key: string, taskArn: string, step: 'retrySent' | 'failedJobSent' | 'eventSent'): Promise<void> {
    await this.updated(key, {
      set: { [step]: true, updatedAt: new Date(this.now()).toISOString() },
      condition: { expression: '#outcomeTask = :task', values: { task: taskArn } },
    });
  }

  /** One conditional UpdateItem; resolves false when the condition failed. */
  private async updated(key: string, u: Parameters<JobLedgerStore['update']>[1], abortSignal?: AbortSignal): Promise<boolean> {
    return (await this.update(key, u, abortSignal)).won;
  }

  /**
   * One conditional UpdateItem; when the condition failed, the item as it
   * was (with `returnOld`); when it held, the item as written (with `returnNew`).
   */
  private async update(key: string, u: {
    set: Record<string, unknown>;
    setIfMissing?: Record<string, unknown>;
    append?: Record<string, unknown[]>;
    /** Counters incremented (from 0 when missing). */
    add?: Record<string, number>;
    remove?: string[];
    condition: { expression: string; values: Record<string, unknown> };
    returnOld?: boolean;
    returnNew?: boolean;
  }, abortSignal?: AbortSignal): Promise<UpdateResult> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const name = (n: string) => {
      names[`#${n}`] = n;
      return `#${n}`;
    };
    const parts: string[] = [];
    for (const [k, v] of Object.entries(u.set)) {
      values[`:set_${k}`] = marshall(v);
      parts.push(`${name(k)} = :set_${k}`);
    }
    for (const [k, v] of Object.entries(u.setIfMissing ?? {})) {
      values[`:ifm_${k}`] = marshall(v);
      parts.push(`${name(k)} = if_not_exists(${name(k)}, :ifm_${k})`);
    }
    for (const [k, v] of Object.entries(u.append ?? {})) {
      values[`:app_${k}`] = marshall(v);
      values[':emptyList'] = marshall([]);
      parts.push(`${name(k)} = list_append(if_not_exists(${name(k)}, :emptyList), :app_${k})`);
    }
    for (const [k, v] of Object.entries(u.add ?? {})) {
      values[`:add_${k}`] = marshall(v);
      values[':zero'] = marshall(0);
      parts.push(`${name(k)} = if_not_exists(${name(k)}, :zero) + :add_${k}`);
    }
    for (const n of u.condition.expression.match(/#[A-Za-z]+/g) ?? []) name(n.slice(1));
    for (const [k, v] of Object.entries(u.condition.values)) values[`:${k}`] = marshall(v);
    const removes = (u.remove ?? []).filter((r) => !(r in u.set)).map(name);
    try {
      const out = await this.call('UpdateItem', {
        TableName: this.table,
        Key: { [LEDGER_KEY]: { S: key } },
        UpdateExpression: `SET ${parts.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: u.condition.expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(u.returnOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}),
        ...(u.returnNew ? { ReturnValues: 'ALL_NEW' } : {}),
      }, abortSignal);
      return { won: true, item: unmarshallItem(out?.Attributes) as LedgerRecord | undefined };
    } catch (e) {
      if (isConditionFailure(e)) return { won: false, current: unmarshallItem((e as DynamoError).item) as LedgerRecord | undefined };
      throw e;
    }
  }
}
