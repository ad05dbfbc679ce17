import { aws_ecs as ecs, Token } from 'aws-cdk-lib';

/** Options of `JobCapacity.spot()`. */
export interface SpotCapacityOptions {
  /**
   * When Fargate Spot has no capacity for a job, launch the same job on
   * on-demand Fargate at once (the next attempt of its token chain), instead
   * of waiting for the record to come back from the queue.
   * @default true
   */
  readonly fallbackToOnDemand?: boolean;
}

/** Options of `JobCapacity.custom()`. */
export interface CustomCapacityOptions {
  /**
   * When the strategy starts no task for lack of capacity, launch the same job
   * on on-demand Fargate at once (the next attempt of its token chain).
   * @default false
   */
  readonly fallbackToOnDemand?: boolean;
}

const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'];

/**
 * Where a job's tasks run: on-demand Fargate, Fargate Spot (with on-demand
 * fallback by default), or a custom strategy over the two.
 */
export class JobCapacity {
  /** On-demand Fargate (`launchType: FARGATE`). */
  public static onDemand(): JobCapacity {
    return new JobCapacity(undefined, false);
  }

  /**
   * Fargate Spot: up to 70% cheaper, interruptible with a two-minute warning.
   * The cluster needs the `FARGATE_SPOT` capacity provider (clusters that
   * `FargateJob` creates have it).
   */
  public static spot(options: SpotCapacityOptions = {}): JobCapacity {
    return new JobCapacity([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }], options.fallbackToOnDemand ?? true);
  }

  /**
   * A capacity provider strategy over `FARGATE` and `FARGATE_SPOT`, for
   * example a base of on-demand tasks and the rest on Spot.
   */
  public static custom(strategy: ecs.CapacityProviderStrategy[], options: CustomCapacityOptions = {}): JobCapacity {
    validateStrategy(strategy);
    return new JobCapacity(strategy.map((s) => ({ ...s })), options.fallbackToOnDemand ?? false);
  }

  /**
   * The capacity provider strategy of every launch.
   * @default - none: launches use `launchType: FARGATE`
   */
  public readonly strategy?: ecs.CapacityProviderStrategy[];

  /** Whether a launch that finds no capacity is retried on on-demand Fargate at once. */
  public readonly fallbackToOnDemand: boolean;

  private constructor(strategy: ecs.CapacityProviderStrategy[] | undefined, fallbackToOnDemand: boolean) {
    this.strategy = strategy;
    this.fallbackToOnDemand = fallbackToOnDemand;
  }

  /** Whether any task may run on Fargate Spot. */
  public get usesSpot(): boolean {
    return (this.strategy ?? []).some((s) => s.capacityProvider === 'FARGATE_SPOT' && (s.weight ?? 0) + (s.base ?? 0) > 0);
  }
}

/** Throws when a strategy is not a valid Fargate strategy. */
export function validateStrategy(strategy: ecs.CapacityProviderStrategy[]): void {
  if (strategy.length === 0) {
    throw new Error('a capacity provider strategy needs at least one provider: use JobCapacity.onDemand() for plain Fargate');
  }
  const seen = new Set<string>();
  let bases = 0;
  let weights = 0;
  for (const item of strategy) {
    const name = item.capacityProvider;
    if (!Token.isUnresolved(name) && !FARGATE_PROVIDERS.includes(name)) {
      throw new Error(`capacity provider '${name}' cannot run Fargate jobs: use FARGATE or FARGATE_SPOT`);
    }
    if (seen.has(name)) {
      throw new Error(`capacity provider '${name}' appears twice in the strategy: give each provider once`);
    }
    seen.add(name);
    const base = item.base ?? 0;
    const weight = item.weight ?? 0;
    if (!Number.isInteger(base) || base < 0 || base > 100000) {
      throw new Error(`base of '${name}' must be a whole number from 0 to 100,000, got ${base}`);
    }
    if (!Number.isInteger(weight) || weight < 0 || weight > 1000) {
      throw new Error(`weight of '${name}' must be a whole number from 0 to 1,000, got ${weight}`);
    }
    if (base > 0) bases++;
    weights += weight;
  }
  if (bases > 1) {
    throw new Error('only one capacity provider of a strategy can have a base');
  }
  if (weights === 0) {
    throw new Error('at least one capacity provider of the strategy needs a weight above 0');
  }
}
