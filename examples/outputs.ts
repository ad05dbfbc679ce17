import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { JobDispatcher } from '../src';

/**
 * The names the README's deploy and redrive steps read from the stack
 * outputs (`aws cloudformation describe-stacks` or `cdk deploy --outputs-file`).
 */
export function dispatcherOutputs(scope: Construct, dispatcher: JobDispatcher): void {
  new CfnOutput(scope, 'DispatchQueueUrl', { value: dispatcher.queue.queueUrl, description: 'The dispatch queue: send failed-job bodies here to redrive them' });
  new CfnOutput(scope, 'DispatchQueueArn', { value: dispatcher.queue.queueArn, description: 'The dispatch queue, destination of a DLQ redrive (start-message-move-task)' });
  new CfnOutput(scope, 'DeadLetterQueueUrl', { value: dispatcher.deadLetterQueue.queueUrl, description: 'Records that could not launch, each with an hc-reason attribute' });
  new CfnOutput(scope, 'DeadLetterQueueArn', { value: dispatcher.deadLetterQueue.queueArn, description: 'The dead-letter queue, source of a DLQ redrive (start-message-move-task)' });
  if (dispatcher.tracker) {
    new CfnOutput(scope, 'FailedJobsQueueUrl', { value: dispatcher.tracker.failedJobsQueue.queueUrl, description: 'Jobs that ended without success after their retries' });
  }
}
