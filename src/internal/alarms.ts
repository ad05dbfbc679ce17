import { Stack, aws_cloudwatch as cloudwatch, aws_cloudwatch_actions as cloudwatch_actions, aws_sns as sns } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeCompliance } from './nag';

/** The alarms the library created. */
const ALARMS = new WeakSet<IConstruct>();

/**
 * Builds a construct's alarms the one way this library does: described with
 * the owner's path, breaching at or above the threshold, missing data not
 * breaching, and notifying `topic` when one is given. An alarm that still
 * has no action at synth (no topic here, none from `ComplianceDefaults`)
 * gets the cdk-nag acknowledgment that says so.
 */
export class AlarmFactory {
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(private readonly scope: Construct, private readonly owner: Construct, private readonly topic?: sns.ITopic) {}

  public add(id: string, description: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods = 1): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this.scope, id, {
      alarmDescription: `${this.owner.node.path}: ${description}`,
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) alarm.addAlarmAction(new cloudwatch_actions.SnsAction(this.topic));
    ALARMS.add(alarm);
    // An alarm with a topic complies; one without may still get one from ComplianceDefaults, so it is checked at synth.
    if (!this.topic) this.acknowledgeWithoutAction(alarm, description);
    this.alarms.push(alarm);
    return alarm;
  }

  private acknowledgeWithoutAction(alarm: cloudwatch.Alarm, description: string): void {
    alarm.node.addValidation({
      validate: () => {
        if (!hasActions(alarm)) {
          acknowledgeCompliance(alarm, [{
            rule: 'CloudWatchAlarmAction',
            reason: `The alarm on ${this.owner.node.path} (${description}) notifies no one because no alarm topic was given: pass alarmTopic, `
              + 'or ComplianceDefaults with an alarmTopic for every alarm of a stack or app. Until then its state shows in the CloudWatch console.',
          }]);
        }
        return [];
      },
    });
  }
}

/** Whether `construct` is an alarm the library created. */
export function isLibraryAlarm(construct: IConstruct): construct is cloudwatch.Alarm {
  return ALARMS.has(construct);
}

/** Whether an alarm has any action (alarm, OK or insufficient data), as rendered. */
export function hasActions(alarm: cloudwatch.Alarm): boolean {
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  const stack = Stack.of(alarm);
  return [cfn.alarmActions, cfn.okActions, cfn.insufficientDataActions].some((a) => (stack.resolve(a) ?? []).length > 0);
}
