import type { Job, Relaunch } from '../../contract/job';
import type { InvocationRecord } from '../../contract/route';
import type { LogFn } from '../../internal/runtime/log';
import type { SqsRecord } from '../../internal/runtime/sqs';

/** The jobs of one record, ready to launch. */
export interface LaunchRequest {
  readonly record: SqsRecord;
  readonly jobs: Job[];
  /** First attempt of the jobs' token chains (above 1 for carried-over or retried jobs). */
  readonly attempt: number;
  readonly receiveCount: number;
  /** The run of a relaunch (1 otherwise). */
  readonly run: number;
  /** Overrides to launch with as they are (a relaunch): no input mapping. */
  readonly overrides?: Relaunch['overrides'];
  /** When the jobs were first enqueued (epoch ms). */
  readonly enqueuedAt?: number;
  /** Why the job left its Lambda worker for Fargate (a routing dispatcher's spillover). */
  readonly spilledOver?: string;
}

/** What the dispatcher offers a launcher during one batch. */
export interface BatchContext {
  /** Epoch ms until which throttled calls may be retried within the batch. */
  readonly deadline: number;
  readonly log: LogFn;
  /** Counts a launch attempt that started nothing, by reason (for the LaunchFailures metric). */
  countFailure(reason: string): void;
}

/**
 * Starts the work of a job on one kind of target. The dispatcher owns the
 * record bookkeeping (normalization, outcomes, batch item failures, dead
 * letters, carry-over); a launcher owns only the launch.
 */
export interface Launcher {
  /** Called once before the records of a batch (for example to count running tasks). */
  beginBatch?(context: BatchContext): Promise<void>;

  /**
   * Launches every job of one record, or none: resolves to the launched job
   * ids; throws `PermanentError` (never launchable: dead-lettered),
   * `DeferredError` (no room now) or anything else (retried).
   */
  launch(request: LaunchRequest, context: BatchContext): Promise<string[]>;

  /**
   * Settles a Lambda worker's invocation record (routing launchers only):
   * records the outcome; may launch the job again (spillover, a redrive).
   */
  settle?(invocation: InvocationRecord, record: SqsRecord, receiveCount: number, redriven: boolean,
    context: BatchContext): Promise<{ status: 'launched' | 'skipped'; reason: string; jobs?: string[] }>;
}
