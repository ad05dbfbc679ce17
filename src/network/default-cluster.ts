import { aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { JobVpc } from './job-vpc';

/**
 * The cluster a construct runs in: the one given; else, with a VPC given, a
 * new one in it (`Cluster` under `scope`: Container Insights, the FARGATE and
 * FARGATE_SPOT capacity providers); else the stack's shared one,
 * `JobVpc.ofStack(scope).defaultCluster()` (`<stack>/JobVpc/Cluster`).
 */
export function clusterFor(scope: Construct, cluster: ecs.ICluster | undefined, vpc: ec2.IVpc | undefined): ecs.ICluster {
  if (cluster) return cluster;
  if (!vpc) return JobVpc.ofStack(scope).defaultCluster();
  return new ecs.Cluster(scope, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    enableFargateCapacityProviders: true,
  });
}
