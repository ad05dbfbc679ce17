import type { JobLedgerStore } from './ledger';
import type { LogFn } from './log';
import { arrayCompleted, JobStatus, LedgerRecord } from '../../contract/ledger';

/** The detail of an `Array Job Completed` event. */
export interface ArrayCompletedDetail {
  readonly arrayJobId: string;
  readonly dispatcher: string;
  /** SUCCEEDED when every child succeeded; FAILED otherwise. */
  readonly status: JobStatus.SUCCEEDED | JobStatus.FAILED;
  readonly size: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Children never launched because the parent had failed (`ArrayFailurePolicy.FAIL_PARENT`). */
  readonly cancelled: number;
  readonly enqueuedAt?: string;
  readonly completedAt: string;
}

/**
 * Publishes an array job's completion once all its children are done:
 * the caller that claims it in the ledger (`by`) publishes, then marks it
 * sent; a redelivery of the same caller publishes again only if the mark
 * is missing. Resolves true when this call published.
 */
export async function completeArrayIfDone(ledger: JobLedgerStore, key: string, parent: LedgerRecord | undefined, by: string,
  publish: (detail: ArrayCompletedDetail) => Promise<void>, log: LogFn): Promise<boolean> {
  if (!parent || !arrayCompleted(parent) || parent.completionSent) return false;
  const failed = parent.childrenFailed ?? 0;
  const cancelled = parent.childrenCancelled ?? 0;
  const status = failed + cancelled === 0 ? JobStatus.SUCCEEDED : JobStatus.FAILED;
  if (!await ledger.claimCompletion(key, by, status)) return false;
  const detail: ArrayCompletedDetail = {
    arrayJobId: parent.jobId,
    dispatcher: parent.dispatcher,
    status,
    size: parent.arraySize!,
    succeeded: parent.childrenSucceeded ?? 0,
    failed,
    cancelled,
    ...(parent.enqueuedAt !== undefined ? { enqueuedAt: new Date(parent.enqueuedAt).toISOString() } : {}),
    completedAt: new Date().toISOString(),
  };
  await publish(detail);
  await ledger.markCompletionSent(key, by);
  log(status === JobStatus.SUCCEEDED ? 'INFO' : 'ERROR', 'array job completed', { ...detail });
  return true;
}
