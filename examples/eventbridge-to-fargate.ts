import { App, CfnOutput, Duration, Stack, StackProps, aws_ecs as ecs, aws_events as events } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dispatcherOutputs } from './outputs';
import {
  DispatchTarget, EventBridgeSource, FargateJob, JobArray, JobDispatcher, JobField, JobTracking, RetryAction, RetryRule,
} from '../src';

/**
 * A custom `OrderPlaced` event on the orders bus fulfils each of its line
 * items in a Fargate task of its own (an array job: one child per element
 * of `detail.items`, each launched once), and one `Array Job Completed`
 * event follows the last. Exit code 2 (a bad item) is not retried; a Spot
 * interruption is; a task not running within 15 minutes is stopped and
 * retried.
 *
 *     aws events put-events --entries '[{"EventBusName":"<OrdersBusName>","Source":"com.example.orders",
 *       "DetailType":"OrderPlaced","Detail":"{\"orderId\":\"42\",\"items\":[\"book\",\"pen\"]}"}]'
 */
export class EventBridgeToFargateStack extends Stack {
  public readonly bus: events.EventBus;
  public readonly job: FargateJob;
  public readonly dispatcher: JobDispatcher;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    this.bus = new events.EventBus(this, 'OrdersBus');

    const job = this.job = new FargateJob(this, 'FulfilmentJob', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36.1'),
      command: ['sh', '-c', 'echo "fulfilling order $ORDER_ID item $HC_ARRAY_INDEX of $HC_ARRAY_SIZE: $HC_ARRAY_ELEMENT ($DETAIL_TYPE)"'],
      environment: {
        ORDER_ID: JobField.fromPath('$.detail.orderId'),
        DETAIL_TYPE: JobField.detailType(),
      },
    });

    this.dispatcher = new JobDispatcher(this, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job, {
        array: JobArray.fromList('$.detail.items'),
        tracking: JobTracking.enabled({
          retryRules: [RetryRule.onExitCode(2, RetryAction.EXIT), RetryRule.onReason('*Spot*')],
          startTimeout: Duration.minutes(15),
        }),
      }),
      sources: [new EventBridgeSource({
        eventBus: this.bus,
        eventPattern: { source: ['com.example.orders'], detailType: ['OrderPlaced'] },
      })],
    });

    new CfnOutput(this, 'OrdersBusName', { value: this.bus.eventBusName, description: 'Put OrderPlaced events from com.example.orders here to start jobs' });
    new CfnOutput(this, 'JobLogGroupName', { value: job.logGroup.logGroupName, description: 'The job containers\' logs' });
    dispatcherOutputs(this, this.dispatcher);
  }
}

if (require.main === module) {
  new EventBridgeToFargateStack(new App(), 'EventBridgeToFargateExample');
}
