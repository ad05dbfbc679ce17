import { aws_events as events, aws_events_targets as targets, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IJobDispatcher, IJobSource, JobSourceConfig, JobSourceType } from './job-source';
import { JobField } from '../job/job-field';

/** Options of an `EventBridgeSource`. */
export interface EventBridgeSourceProps {
  /** Events matching this pattern start jobs. */
  readonly eventPattern: events.EventPattern;

  /**
   * The bus to listen on.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Description of the rule.
   * @default - names the dispatcher
   */
  readonly description?: string;
}

/**
 * Starts a job for every matching EventBridge event: a rule whose target is
 * the dispatch queue, with the dispatcher's dead-letter queue for events
 * EventBridge cannot deliver. S3 "Object Created" events (source `aws.s3`)
 * become S3 jobs, so `JobField.s3Key()` and friends resolve for them.
 */
export class EventBridgeSource implements IJobSource {
  constructor(private readonly props: EventBridgeSourceProps) {
    if (!props.eventPattern || Object.keys(props.eventPattern).length === 0) {
      throw new Error('EventBridgeSource needs a non-empty eventPattern (for example { source: [\'com.example.orders\'] })');
    }
    if (JobField.containsField(JSON.stringify(props.eventPattern))) {
      throw new Error('JobField markers cannot be used in an EventBridgeSource eventPattern: patterns are fixed at deploy time');
    }
  }

  public bind(scope: Construct, dispatcher: IJobDispatcher): JobSourceConfig {
    new events.Rule(scope, 'Rule', {
      eventBus: this.props.eventBus,
      eventPattern: this.props.eventPattern,
      description: this.props.description ?? `Starts jobs of ${dispatcher.node.path}`,
      targets: [new targets.SqsQueue(dispatcher.queue, {
        deadLetterQueue: dispatcher.deadLetterQueue,
        maxEventAge: Duration.hours(24),
        retryAttempts: 185,
      })],
    });
    const types = [JobSourceType.EVENTBRIDGE];
    if ((this.props.eventPattern.source ?? []).includes('aws.s3')) {
      types.push(JobSourceType.S3);
    }
    return { sourceTypes: types };
  }
}
