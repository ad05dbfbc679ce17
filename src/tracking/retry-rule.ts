import { Token } from 'aws-cdk-lib';
import { JobOutcome } from '../contract/job';
import type { RetryRuleConfig } from '../contract/tracker-config';

/** What a matching `RetryRule` does with the job. */
export enum RetryAction {
  /** Run the job again (while runs remain under `retryAttempts`). */
  RETRY = 'RETRY',
  /** Give up: the job fails now, whatever retries remain. */
  EXIT = 'EXIT',
}

/** Most rules a tracker takes (AWS Batch takes 5). */
export const MAX_RETRY_RULES = 10;

/**
 * A rule that decides whether a job whose task stopped without success is
 * run again, like an AWS Batch `evaluateOnExit` rule. Rules are evaluated
 * in order; the first that matches decides (`RetryAction.RETRY` or
 * `RetryAction.EXIT`); when none matches, `retryableOutcomes` decides.
 * Retries stay bounded by `retryAttempts`, and a job that succeeded is
 * never run again. The rule that matched is written to the job's ledger
 * item (`retryRule`) and to its `Job Failed` event.
 */
export class RetryRule {
  /**
   * Matches when the job's essential container exited with `exitCode`
   * (0-255; e.g. 137: killed, out of memory).
   */
  public static onExitCode(exitCode: number, action?: RetryAction): RetryRule {
    if (!Token.isUnresolved(exitCode) && (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255)) {
      throw new Error(`RetryRule.onExitCode() takes an exit code from 0 to 255, got ${exitCode}`);
    }
    return new RetryRule('exitCode', String(exitCode), action ?? RetryAction.RETRY);
  }

  /**
   * Matches when the task's stopped reason, the essential container's
   * reason, or the reason the tracker classified matches `pattern`: a glob
   * where `*` stands for any characters (e.g. `*Spot*`, `CannotPullContainerError*`,
   * `OutOfMemoryError*`), compared with the whole reason, case-sensitively.
   */
  public static onReason(pattern: string, action?: RetryAction): RetryRule {
    if (!Token.isUnresolved(pattern) && (pattern.length === 0 || pattern.length > 512)) {
      throw new Error(`RetryRule.onReason() takes a pattern of 1 to 512 characters, got ${pattern.length}`);
    }
    return new RetryRule('reason', pattern, action ?? RetryAction.RETRY);
  }

  /** Matches when the tracker classified the stopped task as `outcome` (not SUCCEEDED). */
  public static onOutcome(outcome: JobOutcome, action?: RetryAction): RetryRule {
    if (outcome === JobOutcome.SUCCEEDED) {
      throw new Error('RetryRule.onOutcome() cannot match SUCCEEDED: a job that succeeded is never run again');
    }
    return new RetryRule('outcome', outcome, action ?? RetryAction.RETRY);
  }

  private constructor(
    /** What the rule looks at: `exitCode`, `reason` or `outcome`. */
    public readonly kind: string,
    /** The exit code, reason pattern or outcome it matches. */
    public readonly value: string,
    /** What it does when it matches. */
    public readonly action: RetryAction,
  ) {}

  /** How the rule reads in ledger items and events, e.g. `onExitCode(137) -> RETRY`. */
  public get description(): string {
    const arg = this.kind === 'reason' ? `'${this.value}'` : this.value;
    const name = this.kind === 'exitCode' ? 'onExitCode' : this.kind === 'reason' ? 'onReason' : 'onOutcome';
    return `${name}(${arg}) -> ${this.action}`;
  }

  /** @internal */
  public _toConfig(): RetryRuleConfig {
    return {
      kind: this.kind as RetryRuleConfig['kind'],
      value: this.value,
      action: this.action === RetryAction.RETRY ? 'retry' : 'exit',
      description: this.description,
    };
  }
}
