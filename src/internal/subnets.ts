import { aws_ec2 as ec2 } from 'aws-cdk-lib';

/**
 * The private subnets of a VPC, where tasks and functions run by default:
 * with egress, or isolated when it has none (a `JobVpc` with `natGateways: 0`).
 */
export function privateSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return { subnetType: vpc.privateSubnets.length > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
}
