import { aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { JobVpc } from './job-vpc';

/**
 * The cluster a construct runs in: the one given, or a new one (`Cluster`,
 * Container Insights, the FARGATE and FARGATE_SPOT capacity providers) in the
 * VPC given or a new `JobVpc` (`Vpc`).
 */
export function clusterFor(scope: Construct, cluster: ecs.ICluster | undefined, vpc: ec2.IVpc | undefined): ecs.ICluster {
  if (cluster) return cluster;
  return new ecs.Cluster(scope, 'Cluster', {
    vpc: vpc ?? new JobVpc(scope, 'Vpc').vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    enableFargateCapacityProviders: true,
  });
}
