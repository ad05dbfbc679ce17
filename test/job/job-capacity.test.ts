import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { FargateJob, JobCapacity, DispatchTarget, JobDispatcher } from '../../src';
import { IMAGE, job, renderedConfig, stackWithCluster } from '../helpers';

describe('JobCapacity', () => {
  test('on-demand (the default) launches with launchType FARGATE and no fallback', () => {
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster)) });
    const config = renderedConfig(stack).target.job;
    expect(config.capacityProviderStrategy).toBeUndefined();
    expect(config.fallbackToOnDemand).toBeUndefined();
  });

  test('Spot uses the FARGATE_SPOT provider and falls back to on-demand unless told not to', () => {
    expect(JobCapacity.spot()).toMatchObject({ strategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }], fallbackToOnDemand: true, usesSpot: true });
    expect(JobCapacity.spot({ fallbackToOnDemand: false }).fallbackToOnDemand).toBe(false);
    const app = new App();
    const stack = new Stack(app, 'Spot');
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(new FargateJob(stack, 'Job', { image: IMAGE, capacity: JobCapacity.spot() })) });
    const config = renderedConfig(stack).target.job;
    expect(config.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    expect(config.launchType).toBeUndefined();
    expect(config.fallbackToOnDemand).toBe(true);
    // the cluster FargateJob creates has both Fargate capacity providers
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
  });

  test('a custom strategy is passed as given', () => {
    const capacity = JobCapacity.custom([{ capacityProvider: 'FARGATE', base: 2, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }]);
    expect(capacity).toMatchObject({ fallbackToOnDemand: false, usesSpot: true });
    const { stack, cluster } = stackWithCluster();
    new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job(stack, cluster, { capacity })) });
    expect(renderedConfig(stack).target.job.capacityProviderStrategy).toEqual([
      { capacityProvider: 'FARGATE', base: 2, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 },
    ]);
  });

  test.each([
    [[], 'a capacity provider strategy needs at least one provider: use JobCapacity.onDemand() for plain Fargate'],
    [[{ capacityProvider: 'my-asg', weight: 1 }], "capacity provider 'my-asg' cannot run Fargate jobs: use FARGATE or FARGATE_SPOT"],
    [[{ capacityProvider: 'FARGATE', weight: 1 }, { capacityProvider: 'FARGATE', weight: 2 }], "capacity provider 'FARGATE' appears twice in the strategy: give each provider once"],
    [[{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 1, weight: 1 }], 'only one capacity provider of a strategy can have a base'],
    [[{ capacityProvider: 'FARGATE', weight: 0 }], 'at least one capacity provider of the strategy needs a weight above 0'],
    [[{ capacityProvider: 'FARGATE', weight: 1001 }], "weight of 'FARGATE' must be a whole number from 0 to 1,000, got 1001"],
    [[{ capacityProvider: 'FARGATE', base: -1, weight: 1 }], "base of 'FARGATE' must be a whole number from 0 to 100,000, got -1"],
  ])('custom(%j) fails: %s', (strategy, message) => {
    expect(() => JobCapacity.custom(strategy)).toThrow(message);
  });

  test('a capacity strategy on a cluster the job did not create warns to associate the providers', () => {
    const { stack, cluster } = stackWithCluster();
    job(stack, cluster, { capacity: JobCapacity.spot() });
    Annotations.fromStack(stack).hasWarning('/Test/Job', Match.stringLikeRegexp('uses capacity providers \\(FARGATE_SPOT\\): make sure the cluster you passed has them associated'));
  });
});
