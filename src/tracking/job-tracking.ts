import { Duration, aws_events as events, Token } from 'aws-cdk-lib';
import { MAX_RETRY_RULES, RetryRule } from './retry-rule';
import { JobOutcome } from '../contract/job';

/** What the tracker does when a job's task stops. */
export interface JobTrackingOptions {
  /**
   * Runs after the first one for an outcome in `retryableOutcomes` (0-10).
   * A retry relaunches the job with the overrides of its last run and the
   * next attempt of its token chain.
   * @default 2
   */
  readonly retryAttempts?: number;

  /**
   * Outcomes that are retried when no `retryRules` rule matches. A non-zero
   * exit is usually a bug or bad input, so it is not retried by default.
   * @default [JobOutcome.INTERRUPTED, JobOutcome.FAILED_TO_START, JobOutcome.START_TIMED_OUT]
   */
  readonly retryableOutcomes?: JobOutcome[];

  /**
   * Rules evaluated in order on every run that stops without success, before
   * `retryableOutcomes`: the first that matches retries the job or gives up
   * (e.g. `RetryRule.onExitCode(137)`, `RetryRule.onReason('*Spot*')`,
   * `RetryRule.onExitCode(2, RetryAction.EXIT)`). Up to 10. Retries stay
   * bounded by `retryAttempts`.
   * @default - none: `retryableOutcomes` decides
   */
  readonly retryRules?: RetryRule[];

  /**
   * A task that has not reached RUNNING this long after it was created
   * (stuck in PROVISIONING or PENDING: no capacity, a slow image pull, an
   * ENI that does not attach) is stopped and classified `START_TIMED_OUT`,
   * which is retried by default. Separate from `timeout`, which counts from
   * the start. Checked every minute; 1 minute to 1 day.
   * @default - no start timeout
   */
  readonly startTimeout?: Duration;

  /**
   * A task still running this long after it started is stopped and
   * classified `TIMED_OUT` (checked every minute; 1 minute to 14 days).
   * @default - no timeout
   */
  readonly timeout?: Duration;

  /**
   * Bus that receives the `Job Succeeded` and `Job Failed` events.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
}

/** Whether a dispatcher tracks its jobs to their outcome, and how. */
export class JobTracking {
  /** Track every job (the default): outcomes, bounded retries, failed-jobs queue, events and metrics. */
  public static enabled(options: JobTrackingOptions = {}): JobTracking {
    validateTracking(options);
    return new JobTracking(true, options);
  }

  /** Fire and forget: no tracker, no HC_* tracking variables on the tasks. */
  public static disabled(): JobTracking {
    return new JobTracking(false, {});
  }

  private constructor(
    /** Whether jobs are tracked. */
    public readonly tracksJobs: boolean,
    /** The tracking options. */
    public readonly options: JobTrackingOptions,
  ) {}
}

export function validateTracking(options: JobTrackingOptions): void {
  const retries = options.retryAttempts;
  if (retries !== undefined && !Token.isUnresolved(retries) && (!Number.isInteger(retries) || retries < 0 || retries > 10)) {
    throw new Error(`retryAttempts must be a whole number from 0 to 10, got ${retries}`);
  }
  if (options.retryableOutcomes?.includes(JobOutcome.SUCCEEDED)) {
    throw new Error('retryableOutcomes cannot include SUCCEEDED: a job that succeeded is never run again');
  }
  if ((options.retryRules?.length ?? 0) > MAX_RETRY_RULES) {
    throw new Error(`retryRules takes at most ${MAX_RETRY_RULES} rules, got ${options.retryRules!.length}: merge rules with a reason pattern such as '*Spot*'`);
  }
  const start = options.startTimeout;
  if (start && !Token.isUnresolved(start.toSeconds())) {
    const s = start.toSeconds();
    if (s < 60 || s > 86400) {
      throw new Error(`startTimeout must be between 1 minute and 1 day, got ${start.toHumanString()}`);
    }
  }
  const timeout = options.timeout;
  if (timeout && !Token.isUnresolved(timeout.toSeconds())) {
    const s = timeout.toSeconds();
    if (s < 60 || s > 14 * 86400) {
      throw new Error(`timeout must be between 1 minute and 14 days, got ${timeout.toHumanString()}`);
    }
  }
}
