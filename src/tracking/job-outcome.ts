/** How a job's task ended, as the tracker classifies it. */
export enum JobOutcome {
  /** The essential container exited with code 0 (whatever the sidecars did). */
  SUCCEEDED = 'SUCCEEDED',
  /** The essential container exited with a non-zero code, or the task stopped for another reason. */
  FAILED = 'FAILED',
  /** The task never ran the container: image pull, network or volume set-up failed (`TaskFailedToStart`). */
  FAILED_TO_START = 'FAILED_TO_START',
  /** Fargate Spot reclaimed the capacity (`SpotInterruption`, `TerminationNotice`). */
  INTERRUPTED = 'INTERRUPTED',
  /** Still running after the job's `timeout`: the tracker stopped it. */
  TIMED_OUT = 'TIMED_OUT',
}
