import { aws_ec2 as ec2, aws_logs as logs, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { constructError } from '../internal/errors';

/** Properties of a `JobVpc`. */
export interface JobVpcProps {
  /**
   * Availability Zones to span.
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * NAT gateways for the private subnets' egress (image pulls, AWS APIs).
   * One per AZ survives an AZ failure; one in total costs less.
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * Retention of the VPC flow logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * A VPC to run jobs in when you bring none: public subnets for the NAT
 * gateways only, private subnets with egress for tasks, and flow logs of all
 * traffic to an encrypted-at-rest CloudWatch log group with retention.
 */
export class JobVpc extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;

  /** The flow log group. */
  public readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: JobVpcProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    const natGateways = props.natGateways ?? 1;
    if (maxAzs < 1) {
      throw constructError(this, `maxAzs must be at least 1, got ${maxAzs}`);
    }
    if (natGateways < 1 || natGateways > maxAzs) {
      throw constructError(this, `natGateways must be between 1 and maxAzs (${maxAzs}) so private subnets have egress, got ${natGateways}`);
    }
    this.vpc = new ec2.Vpc(this, 'Resource', {
      maxAzs,
      natGateways,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      // Nothing in this library uses the default security group; keeping the
      // template free of the custom resource that would restrict it.
      restrictDefaultSecurityGroup: false,
    });
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
