import { Annotations, aws_sqs as sqs, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IJobDispatcher, IJobSource, JobSourceConfig, JobSourceType } from './job-source';
import { warningId } from '../contract/names';
import { JobField } from '../job/job-field';

/** Options of an `SqsSource`. */
export interface SqsSourceProps {
  /**
   * The job id: a `JobField` template such as `JobField.fromPath('$.orderId')`.
   * Messages with the same id launch one task, so producers that send the same
   * work twice are deduplicated (within ECS's 24-hour idempotency window).
   * @default - the SQS message id (redeliveries of one message dedupe; resends do not)
   */
  readonly jobId?: string;
}

/**
 * Starts a job for every message of your own queue. The dispatcher consumes
 * the queue directly, so its redrive policy (give it one) applies to
 * messages that keep failing to launch; messages that can never launch are
 * moved to the dispatcher's dead-letter queue with their reason.
 */
export class SqsSource implements IJobSource {
  constructor(private readonly queue: sqs.IQueue, private readonly props: SqsSourceProps = {}) {
    if (props.jobId !== undefined && !Token.isUnresolved(props.jobId) && !JobField.containsField(props.jobId)) {
      throw new Error(`SqsSource jobId must contain a JobField marker (for example JobField.fromPath('$.orderId')), got '${props.jobId}'`);
    }
  }

  public bind(scope: Construct, _dispatcher: IJobDispatcher): JobSourceConfig {
    if (this.queue.fifo) {
      throw new Error(`SqsSource does not support FIFO queues (${this.queue.node.path}): use a standard queue; ordering is lost once jobs run in parallel anyway`);
    }
    if (this.queue instanceof sqs.Queue) {
      if (!this.queue.deadLetterQueue) {
        Annotations.of(scope).addWarningV2(warningId('sqs-source', 'withoutDeadLetterQueue'),
          `queue ${this.queue.node.path} has no dead-letter queue: messages that keep failing to launch are retried until they expire. Give it a deadLetterQueue.`);
      }
    } else {
      Annotations.of(scope).addWarningV2(warningId('sqs-source', 'importedQueue'),
        `queue ${this.queue.node.path} is imported: make sure it has a dead-letter queue and a visibility timeout of at least 6 times the dispatcher timeout.`);
    }
    return {
      sourceTypes: [JobSourceType.SQS],
      queue: this.queue,
      jobId: this.props.jobId,
      maxReceiveCount: this.queue instanceof sqs.Queue ? this.queue.deadLetterQueue?.maxReceiveCount : undefined,
    };
  }
}
