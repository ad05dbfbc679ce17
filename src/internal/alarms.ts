import { aws_cloudwatch as cloudwatch, aws_cloudwatch_actions as cloudwatch_actions, aws_sns as sns } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Builds a construct's alarms the one way this library does: described with
 * the owner's path, breaching at or above the threshold, missing data not
 * breaching, and notifying `topic` when one is given.
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
    this.alarms.push(alarm);
    return alarm;
  }
}
