import { App, CfnOutput, Stack, StackProps, aws_ecs as ecs, aws_events as events } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dispatcherOutputs } from './outputs';
import { EventBridgeSource, FargateJob, DispatchTarget, JobDispatcher, JobField } from '../src';

/**
 * A custom `OrderPlaced` event on the orders bus starts a Fargate task that
 * receives the order id and the event detail.
 *
 *     aws events put-events --entries '[{"EventBusName":"<OrdersBusName>","Source":"com.example.orders",
 *       "DetailType":"OrderPlaced","Detail":"{\"orderId\":\"42\"}"}]'
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
      command: ['sh', '-c', 'echo "fulfilling order $ORDER_ID ($DETAIL_TYPE): $DETAIL"'],
      environment: {
        ORDER_ID: JobField.fromPath('$.detail.orderId'),
        DETAIL_TYPE: JobField.detailType(),
        DETAIL: JobField.detail(),
      },
    });

    this.dispatcher = new JobDispatcher(this, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job),
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
