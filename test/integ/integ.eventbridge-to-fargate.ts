import { App } from 'aws-cdk-lib';
import { captureEvents, captureJobSucceeded, expectEvent, expectJobSucceeded, expectLogLine, integTest, REGION } from './common';
import { EventBridgeToFargateStack } from '../../examples/eventbridge-to-fargate';

/**
 * An OrderPlaced event with two line items on the orders bus runs one child
 * task per item: each logs its item, each publishes `Job Succeeded`, and one
 * `Array Job Completed` event counts both.
 */
export function build(app = new App()): App {
  const stack = new EventBridgeToFargateStack(app, 'IntegEventBridgeToFargate', { env: { region: REGION } });
  const events = captureJobSucceeded(stack);
  const completions = captureEvents(stack, 'Array Job Completed', 'IntegArrayEvents');
  const integ = integTest(app, 'EventBridgeToFargate', stack);

  integ.assertions.awsApiCall('EventBridge', 'putEvents', {
    Entries: [{
      EventBusName: stack.bus.eventBusName,
      Source: 'com.example.orders',
      DetailType: 'OrderPlaced',
      Detail: JSON.stringify({ orderId: 'integ-7', items: ['book', 'pen'] }),
    }],
  })
    .next(expectLogLine(integ, stack.job.logGroup.logGroupName, 'fulfilling order integ-7 item 1 of 2: pen'))
    .next(expectJobSucceeded(integ, events))
    .next(expectEvent(integ, completions, 'Array Job Completed', '.*"succeeded":2'));
  return app;
}

if (require.main === module) build().synth();
