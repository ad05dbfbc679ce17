import { ExpectedResult, IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack, aws_events as events, aws_events_targets as targets, aws_sqs as sqs } from 'aws-cdk-lib';

/**
 * Shared pieces of the integration tests (`integ.*.ts`, run by integ-runner:
 * see the README). Each test deploys one example stack, causes what a user
 * would (an upload, a message, an event, a request) and waits for the
 * outcome the user cares about.
 */

/** How long to wait for a Fargate task to be placed, pull its image, run and report (cold starts included). */
export const WAIT = { totalTimeout: Duration.minutes(15), interval: Duration.seconds(30) };

/** Region of the tests: the one integ-runner runs them in (`--parallel-regions`, AWS_REGION), else eu-west-1. */
export const REGION = process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION ?? 'eu-west-1';

/**
 * The IntegTest of one example stack. Its assertions live in their own stack
 * in the same region (the assertions read the example's outputs: cross-stack
 * references need both stacks to name their region).
 */
export function integTest(app: App, name: string, stack: Stack): IntegTest {
  const assertionStack = new Stack(app, `${name}Assertions`, { env: { region: REGION } });
  return new IntegTest(app, name, { testCases: [stack], assertionStack, diffAssets: false });
}

/**
 * A queue that receives the library's `Job Succeeded` events from the default
 * bus, so a test can wait for one.
 */
export function captureJobSucceeded(stack: Stack): sqs.Queue {
  return captureEvents(stack, 'Job Succeeded', 'IntegJobEvents');
}

/** A queue that receives the library's events of one detail type (on the default bus). */
export function captureEvents(stack: Stack, detailType: string, id: string): sqs.Queue {
  const queue = new sqs.Queue(stack, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
  new events.Rule(stack, `${id}Rule`, {
    eventPattern: { source: ['cdk-hybrid-compute'], detailType: [detailType] },
    targets: [new targets.SqsQueue(queue)],
  });
  return queue;
}

/** Waits until `queue` holds a `Job Succeeded` event. */
export function expectJobSucceeded(integ: IntegTest, queue: sqs.IQueue): IApiCall {
  return expectEvent(integ, queue, 'Job Succeeded');
}

/** Waits until `queue` holds an event of `detailType` whose body also matches `pattern`. */
export function expectEvent(integ: IntegTest, queue: sqs.IQueue, detailType: string, pattern = ''): IApiCall {
  return integ.assertions.awsApiCall('SQS', 'receiveMessage', { QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 })
    .expect(ExpectedResult.objectLike({
      Messages: Match.arrayWith([Match.objectLike({ Body: Match.stringLikeRegexp(`"detail-type":"${detailType}"${pattern}`) })]),
    }))
    .waitForAssertions(WAIT);
}

/** Waits until the log group holds a line matching `text` (the job ran, with its input). */
export function expectLogLine(integ: IntegTest, logGroupName: string, text: string): IApiCall {
  return integ.assertions.awsApiCall('CloudWatchLogs', 'filterLogEvents', { logGroupName, filterPattern: `"${text}"` })
    .expect(ExpectedResult.objectLike({ events: Match.arrayWith([Match.objectLike({ message: Match.stringLikeRegexp(text) })]) }))
    .waitForAssertions(WAIT);
}
