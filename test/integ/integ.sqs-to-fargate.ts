import { App } from 'aws-cdk-lib';
import { captureJobSucceeded, expectJobSucceeded, expectLogLine, integTest, REGION } from './common';
import { SqsToFargateStack } from '../../examples/sqs-to-fargate';

/** A message on the orders queue runs its job: the container logs the order, and a `Job Succeeded` event follows. */
export function build(app = new App()): App {
  const stack = new SqsToFargateStack(app, 'IntegSqsToFargate', { env: { region: REGION } });
  const events = captureJobSucceeded(stack);
  const integ = integTest(app, 'SqsToFargate', stack);

  integ.assertions.awsApiCall('SQS', 'sendMessage', { QueueUrl: stack.ordersQueue.queueUrl, MessageBody: JSON.stringify({ orderId: 'integ-42', item: 'book' }) })
    .next(expectLogLine(integ, stack.job.logGroup.logGroupName, 'processing order integ-42'))
    .next(expectJobSucceeded(integ, events));
  return app;
}

if (require.main === module) build().synth();
