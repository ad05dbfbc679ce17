import { App, CfnOutput, Duration, Stack, StackProps, Validations, aws_ecs as ecs, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dispatcherOutputs } from './outputs';
import { FargateJob, DispatchTarget, JobDispatcher, JobField, SqsSource } from '../src';

/**
 * Every message sent to the orders queue starts a Fargate task that receives
 * the order id and the whole message body. Messages carrying the same
 * `orderId` launch one task (the job id is the order id).
 */
export class SqsToFargateStack extends Stack {
  public readonly ordersQueue: sqs.Queue;
  public readonly job: FargateJob;
  public readonly dispatcher: JobDispatcher;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    const ordersDlq = new sqs.Queue(this, 'OrdersDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(ordersDlq).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This is the dead-letter queue of the orders queue; messages end here to be inspected and redriven.',
    });
    this.ordersQueue = new sqs.Queue(this, 'Orders', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: ordersDlq, maxReceiveCount: 5 },
    });

    const job = this.job = new FargateJob(this, 'OrderJob', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36.1'),
      command: ['sh', '-c', 'echo "processing order $ORDER_ID: $ORDER"'],
      environment: {
        ORDER_ID: JobField.fromPath('$.orderId'),
        ORDER: JobField.body(),
      },
    });

    this.dispatcher = new JobDispatcher(this, 'Dispatcher', {
      target: DispatchTarget.fargateJob(job),
      sources: [new SqsSource(this.ordersQueue, { jobId: JobField.fromPath('$.orderId') })],
    });

    new CfnOutput(this, 'OrdersQueueUrl', { value: this.ordersQueue.queueUrl, description: 'Send {"orderId": "..."} messages here to start jobs' });
    new CfnOutput(this, 'JobLogGroupName', { value: job.logGroup.logGroupName, description: 'The job containers\' logs' });
    dispatcherOutputs(this, this.dispatcher);
  }
}

if (require.main === module) {
  new SqsToFargateStack(new App(), 'SqsToFargateExample');
}
