import { Duration, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

/** An SQS-managed encrypted, SSL-only queue: the settings of every queue this library creates. */
export function secureQueue(scope: Construct, id: string, props: sqs.QueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...props });
}

/** Properties of a queue with its dead-letter queue. */
export interface QueueWithDeadLetterProps {
  readonly visibilityTimeout: Duration;
  readonly retentionPeriod: Duration;
  readonly maxReceiveCount: number;
  /** What ends in the dead-letter queue, for the cdk-nag reason. */
  readonly deadLetterPurpose: string;
}

/**
 * A secure queue (`Queue`) and its dead-letter queue (`DeadLetterQueue`, kept
 * 14 days, the SQS maximum) under `scope`.
 */
export function queueWithDeadLetter(scope: Construct, props: QueueWithDeadLetterProps): { queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
  const deadLetterQueue = secureQueue(scope, 'DeadLetterQueue', { retentionPeriod: Duration.days(14) });
  const queue = secureQueue(scope, 'Queue', {
    visibilityTimeout: props.visibilityTimeout,
    retentionPeriod: props.retentionPeriod,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
  });
  acknowledgeNag(deadLetterQueue, [{ id: 'Serverless-SQSRedrivePolicy', reason: props.deadLetterPurpose }]);
  return { queue, deadLetterQueue };
}
