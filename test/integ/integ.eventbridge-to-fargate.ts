import { App } from 'aws-cdk-lib';
import { captureJobSucceeded, expectJobSucceeded, expectLogLine, integTest, REGION } from './common';
import { EventBridgeToFargateStack } from '../../examples/eventbridge-to-fargate';

/** An OrderPlaced event on the orders bus runs its job: the container logs the order, and a `Job Succeeded` event follows. */
export function build(app = new App()): App {
  const stack = new EventBridgeToFargateStack(app, 'IntegEventBridgeToFargate', { env: { region: REGION } });
  const events = captureJobSucceeded(stack);
  const integ = integTest(app, 'EventBridgeToFargate', stack);

  integ.assertions.awsApiCall('EventBridge', 'putEvents', {
    Entries: [{ EventBusName: stack.bus.eventBusName, Source: 'com.example.orders', DetailType: 'OrderPlaced', Detail: JSON.stringify({ orderId: 'integ-7' }) }],
  })
    .next(expectLogLine(integ, stack.job.logGroup.logGroupName, 'fulfilling order integ-7'))
    .next(expectJobSucceeded(integ, events));
  return app;
}

if (require.main === module) build().synth();
