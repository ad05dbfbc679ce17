import { IAspect, aws_cloudwatch_actions as cloudwatch_actions, aws_kms as kms, aws_sns as sns } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { hasActions, isLibraryAlarm } from '../internal/alarms';
import { encryptLogGroup, isLibraryLogGroup } from '../internal/log-group';

/** Properties of `ComplianceDefaults`. */
export interface ComplianceDefaultsProps {
  /**
   * The topic every alarm this library creates under the scope notifies,
   * when its construct was given no `alarmTopic` of its own.
   * @default - alarms keep what their constructs give them (no action without an `alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * The KMS key of every log group this library creates under the scope,
   * when its construct was given no `logEncryptionKey` of its own. A key of
   * the app gets the key-policy statement that lets CloudWatch Logs use it;
   * an imported key's policy must allow it already.
   * @default - log groups keep what their constructs give them (CloudWatch Logs' service-side encryption without a `logEncryptionKey`)
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * One alarm topic and one log key for everything this library creates under
 * a scope, instead of passing them to every construct:
 *
 *     Aspects.of(app).add(new ComplianceDefaults({ alarmTopic, logEncryptionKey }));
 *
 * It touches only alarms and log groups the library's constructs created
 * (never a log group you passed in, never your own alarms), and only those
 * whose construct was given no topic or key of its own.
 */
export class ComplianceDefaults implements IAspect {
  constructor(private readonly props: ComplianceDefaultsProps = {}) {}

  public visit(node: IConstruct): void {
    if (this.props.alarmTopic && isLibraryAlarm(node) && !hasActions(node)) {
      node.addAlarmAction(new cloudwatch_actions.SnsAction(this.props.alarmTopic));
    }
    if (this.props.logEncryptionKey && isLibraryLogGroup(node)) {
      encryptLogGroup(node, this.props.logEncryptionKey);
    }
  }
}
