/**
 * The contract between the `JobTracker` construct and its handler (rendered
 * as JSON into `HC_TRACKER_CONFIG`). Not part of the public API.
 */
import type { LedgerConfig } from './dispatch-config';

export const TRACKER_CONFIG_VERSION = 3;

export interface TrackerConfig {
  readonly version: number;
  /** `startedBy` of the tasks tracked (the dispatcher's). */
  readonly startedBy: string;
  readonly cluster: string;
  /** The job's essential container: its exit code decides the outcome. */
  readonly containerName: string;
  /** Where retries are enqueued; no retries without it. */
  readonly dispatchQueueUrl?: string;
  readonly failedJobsQueueUrl: string;
  /** Runs after the first one for a retryable outcome. */
  readonly retryAttempts: number;
  readonly retryableOutcomes: string[];
  /** Rules evaluated in order before `retryableOutcomes`: the first that matches decides. */
  readonly retryRules?: RetryRuleConfig[];
  /** Tasks running longer are stopped and classified TIMED_OUT. */
  readonly timeoutSeconds?: number;
  /** Tasks not RUNNING this long after they were created are stopped and classified START_TIMED_OUT. */
  readonly startTimeoutSeconds?: number;
  /** Bus of the outcome events. */
  readonly eventBusName: string;
  /** The dispatcher launches array jobs: children are counted into their parent, which completes once. */
  readonly arrays?: { readonly failParent: boolean };
  /** The job ledger the outcomes are recorded in (the dispatcher's). */
  readonly ledger: LedgerConfig;
}

/** A retry rule (`RetryRule`). */
export interface RetryRuleConfig {
  /** `exitCode`: the essential container's exit code is `value`; `reason`: a reason matches the glob `value`; `outcome`: the outcome is `value`. */
  readonly kind: 'exitCode' | 'reason' | 'outcome';
  readonly value: string;
  readonly action: 'retry' | 'exit';
  /** How the rule reads, e.g. `onExitCode(137) -> RETRY` (written to the ledger and the event). */
  readonly description: string;
}
