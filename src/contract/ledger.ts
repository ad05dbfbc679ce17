/**
 * The job ledger's item schema: one DynamoDB item per job and dispatcher,
 * written by the dispatcher (reservations and launches) and the tracker
 * (outcomes), read by users (README, "What happened to job X?"). Plain
 * values only.
 */

/** The partition key attribute: `<dispatcher startedBy>#<job id>`. */
export const LEDGER_KEY = 'pk';

/** The TTL attribute (epoch seconds): items expire this long after their last write. */
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** The ledger key of a job launched by a dispatcher. */
export function ledgerKey(startedBy: string, jobId: string): string {
  return `${startedBy}#${jobId}`;
}

/** Where a job stands, as its ledger item's `status` says. */
export enum JobStatus {
  /** A launch attempt is reserved; whether it started a task is not known yet. */
  LAUNCHING = 'LAUNCHING',
  /** The latest attempt started no task (capacity, parameters changed); the next delivery tries the next token. */
  LAUNCH_FAILED = 'LAUNCH_FAILED',
  /** A task runs for the current run. */
  LAUNCHED = 'LAUNCHED',
  /** The current run's task stopped with success. */
  SUCCEEDED = 'SUCCEEDED',
  /** The current run's task stopped without success and no retry is left. */
  FAILED = 'FAILED',
  /** The current run's task stopped without success; the tracker enqueued the next run. */
  RETRYING = 'RETRYING',
  /** A child of an array job that failed (`FAIL_PARENT`) before the child was launched: it never will be. */
  CANCELLED = 'CANCELLED',
}

/** Which capacity an attempt used. */
export type AttemptCapacity = 'primary' | 'on-demand';

/**
 * Whether the latest reserved attempt started a task: `open` (unknown: its
 * RunTask call may have started one; only its own token may be tried
 * again), `failed` (it started none: the next token may be reserved) or
 * `launched`.
 */
export type AttemptState = 'open' | 'failed' | 'launched';

/** One ledger item, as the handlers read and write it. */
export interface LedgerRecord {
  readonly pk: string;
  readonly jobId: string;
  readonly dispatcher: string;
  /** The current run (1 = first; each tracker retry or failed-job redrive adds one). */
  readonly run: number;
  /** The latest reserved attempt of the job's token chain (its client token is f(family, job id, attempt)). */
  readonly attempt: number;
  readonly attemptState: AttemptState;
  readonly attemptCapacity: AttemptCapacity;
  /** When the latest attempt was reserved (epoch ms): an open token older than ECS's 24 h is never replayed. */
  readonly reservedAt: number;
  /**
   * The delivery that may call RunTask with the open attempt's token, and
   * until when (epoch ms: the end of its invocation; earlier when it got an
   * answer). Another delivery waits for the lease to end before it takes
   * the attempt over: two callers of one token could otherwise see one
   * failure and one launch (if ECS forgets failed tokens), and the one that
   * saw the failure would move on to the next token.
   */
  readonly owner?: string;
  readonly leaseUntil?: number;
  /** The open attempt's token was never sent (the task cap deferred it): nothing can have started under it. */
  readonly notCalled?: boolean;
  /** When the job was first enqueued (epoch ms): HC_ENQUEUED_AT, the same for every delivery of the job. */
  readonly enqueuedAt?: number;
  /** Why the latest attempt started no task. */
  readonly lastFailure?: string;
  /** The task of the current run (`lambda:<request id>` for a run on a Lambda worker). */
  readonly taskArn?: string;
  /** Where the current run runs, for a routing dispatcher: `lambda` or `fargate`. */
  readonly compute?: string;
  /** Why the job left Lambda for Fargate, when it spilled over. */
  readonly spilledOver?: string;
  /** SHA-256 of the job a Lambda run was sent (its invocation record is checked against it). */
  readonly payloadHash?: string;
  /** Every task the job ran, in order. */
  readonly tasks: string[];
  readonly status: JobStatus;
  /** The outcome of the run `outcomeRun`, from its task `outcomeTask` (the tracker's). */
  readonly outcome?: string;
  readonly reason?: string;
  readonly exitCode?: number;
  readonly outcomeRun?: number;
  readonly outcomeTask?: string;
  /** The retry rule that decided whether the run was retried (`RetryRule.description`), when one matched. */
  readonly retryRule?: string;
  /** Tracker steps done for `outcomeTask`: the retry enqueued, the failed-job message sent, the outcome event published. */
  readonly retrySent?: boolean;
  readonly failedJobSent?: boolean;
  readonly eventSent?: boolean;
  /** Array job (parent item): the number of children. */
  readonly arraySize?: number;
  /** Array job: children `0 .. arrayLaunched - 1` are launched (or cancelled); the dispatcher launches from here. */
  readonly arrayLaunched?: number;
  /** Array job: children from here on were never tried (no delivery started their launch); they can be cancelled at once. */
  readonly arrayAttempted?: number;
  /** Array job: children from here on were cancelled in bulk (never tried), when the parent failed. */
  readonly arrayCancelledFrom?: number;
  /** Array job: when the cursor last moved (epoch ms): an array that makes progress is not dead-lettered for its age. */
  readonly arrayProgressAt?: number;
  /** Array job: whether the first child that fails fails the parent. */
  readonly arrayFailParent?: boolean;
  /** Array job: children whose final outcome is counted, by index (each once). */
  readonly childrenDone?: number[];
  readonly childrenSucceeded?: number;
  readonly childrenFailed?: number;
  /** Array job: children never launched because the parent had failed. */
  readonly childrenCancelled?: number;
  /** Array job: who publishes the completion event (until `claimUntil`, epoch ms), and whether it is sent. */
  readonly completionBy?: string;
  readonly claimUntil?: number;
  readonly completionSent?: boolean;
  readonly completedAt?: string;
  /** A child of an array job (child item): its parent's job id and its index. */
  readonly arrayJobId?: string;
  readonly arrayIndex?: number;
  /** A child cancelled before it launched (its parent failed under `FAIL_PARENT`): never launched. */
  readonly cancelled?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly launchedAt?: string;
  readonly stoppedAt?: string;
  readonly expiresAt: number;
}

/** ECS keeps a client token for up to 24 hours: an open reservation older than this is not replayed. */
export const TOKEN_REPLAY_WINDOW_MS = 23 * 3600 * 1000;

/** Most children of an array job (as AWS Batch). */
export const MAX_ARRAY_SIZE = 10_000;

/** The job id of child `index` of array job `parentId`: its ledger key is `ledgerKey(startedBy, arrayChildId(...))`. */
export function arrayChildId(parentId: string, index: number): string {
  return `${parentId}[${index}]`;
}

/** Whether every child of an array job has its final outcome (or was cancelled). */
export function arrayCompleted(parent: Pick<LedgerRecord, 'arraySize' | 'childrenSucceeded' | 'childrenFailed' | 'childrenCancelled'>): boolean {
  const size = parent.arraySize;
  return size !== undefined && (parent.childrenSucceeded ?? 0) + (parent.childrenFailed ?? 0) + (parent.childrenCancelled ?? 0) >= size;
}
