import { Duration, Size, SizeRoundingBehavior, Token, aws_ecs as ecs, aws_lambda as lambda } from 'aws-cdk-lib';
import {
  breakEvenMs, ComputeModel, DEFAULT_FARGATE_STARTUP_MS, DEFAULT_PRICES, FARGATE_INCLUDED_STORAGE_GIB, FARGATE_MINIMUM_BILLED_SECONDS,
  fargateJobCost, FargateShape, formatDollars, formatDuration, LAMBDA_MAX_DURATION_MS, lambdaJobCost, LambdaShape, PriceList, validatePrices,
} from '../contract/compute-pricing';

/** Prices to override in `ComputePrices.custom()`; each defaults to the price of `basedOn`. */
export interface ComputePricesProps {
  /**
   * The prices the others default to.
   * @default ComputePrices.US_EAST_1_2026_11
   */
  readonly basedOn?: ComputePrices;

  /**
   * The region the prices are for.
   * @default - the region of `basedOn`
   */
  readonly region?: string;

  /**
   * The date you read the prices (YYYY-MM-DD): estimates name it.
   * @default - the date of `basedOn`
   */
  readonly asOf?: string;

  /**
   * Lambda duration on x86_64, dollars per GB-second.
   * @default - the price of `basedOn`
   */
  readonly lambdaGbSecondX86?: number;

  /**
   * Lambda duration on arm64, dollars per GB-second.
   * @default - the price of `basedOn`
   */
  readonly lambdaGbSecondArm?: number;

  /**
   * Lambda requests, dollars per million.
   * @default - the price of `basedOn`
   */
  readonly lambdaRequestsPerMillion?: number;

  /**
   * Fargate Linux/X86_64, dollars per vCPU-hour.
   * @default - the price of `basedOn`
   */
  readonly fargateVcpuHourX86?: number;

  /**
   * Fargate Linux/X86_64, dollars per GB-hour of memory.
   * @default - the price of `basedOn`
   */
  readonly fargateGbHourX86?: number;

  /**
   * Fargate Linux/ARM64, dollars per vCPU-hour.
   * @default - the price of `basedOn`
   */
  readonly fargateVcpuHourArm?: number;

  /**
   * Fargate Linux/ARM64, dollars per GB-hour of memory.
   * @default - the price of `basedOn`
   */
  readonly fargateGbHourArm?: number;

  /**
   * Fargate ephemeral storage above the included 20 GiB, dollars per GB-hour.
   * @default - the price of `basedOn`
   */
  readonly fargateStorageGbHour?: number;

  /**
   * The Fargate Spot discount on vCPU and memory, from 0 to 1 (0.7 pays 30%).
   * Spot prices follow supply and demand: enter the current Spot price
   * table's discount for a closer estimate.
   * @default - the discount of `basedOn`
   */
  readonly spotDiscount?: number;
}

/**
 * Lambda and Fargate prices, dated. Prices change: an estimate names the
 * date and region of its prices, and `custom()` replaces any of them.
 */
export class ComputePrices {
  /**
   * us-east-1 on-demand prices from aws.amazon.com/lambda/pricing and
   * aws.amazon.com/fargate/pricing, read 2026-11-27: Lambda $0.0000166667
   * (x86_64) and $0.0000133334 (arm64) per GB-second, $0.20 per million
   * requests; Fargate $0.04048 per vCPU-hour and $0.004445 per GB-hour
   * (Linux/X86_64), $0.03238 and $0.00356 (Linux/ARM64), $0.000111 per
   * GB-hour of ephemeral storage above 20 GB; Fargate Spot at the advertised
   * "up to 70%" off (the live Spot discount is often smaller). Lambda's first
   * pricing tier; no free tier, no Savings Plans.
   */
  public static readonly US_EAST_1_2026_11 = new ComputePrices(DEFAULT_PRICES);

  /** Prices of your own (another region, a newer price page, a negotiated rate), the rest from `basedOn`. */
  public static custom(props: ComputePricesProps = {}): ComputePrices {
    const base = props.basedOn ?? ComputePrices.US_EAST_1_2026_11;
    const prices: PriceList = {
      region: props.region ?? base.region,
      asOf: props.asOf ?? base.asOf,
      lambdaGbSecondX86: props.lambdaGbSecondX86 ?? base.lambdaGbSecondX86,
      lambdaGbSecondArm: props.lambdaGbSecondArm ?? base.lambdaGbSecondArm,
      lambdaRequestsPerMillion: props.lambdaRequestsPerMillion ?? base.lambdaRequestsPerMillion,
      fargateVcpuHourX86: props.fargateVcpuHourX86 ?? base.fargateVcpuHourX86,
      fargateGbHourX86: props.fargateGbHourX86 ?? base.fargateGbHourX86,
      fargateVcpuHourArm: props.fargateVcpuHourArm ?? base.fargateVcpuHourArm,
      fargateGbHourArm: props.fargateGbHourArm ?? base.fargateGbHourArm,
      fargateStorageGbHour: props.fargateStorageGbHour ?? base.fargateStorageGbHour,
      spotDiscount: props.spotDiscount ?? base.spotDiscount,
    };
    for (const [name, value] of Object.entries(prices)) {
      if (Token.isUnresolved(value)) throw new Error(`compute price ${name} must be a concrete value, not a token`);
    }
    validatePrices(prices);
    return new ComputePrices(prices);
  }

  /** The region the prices are for. */
  public readonly region: string;
  /** The date the prices were read (YYYY-MM-DD). */
  public readonly asOf: string;
  /** Lambda duration on x86_64, dollars per GB-second. */
  public readonly lambdaGbSecondX86: number;
  /** Lambda duration on arm64, dollars per GB-second. */
  public readonly lambdaGbSecondArm: number;
  /** Lambda requests, dollars per million. */
  public readonly lambdaRequestsPerMillion: number;
  /** Fargate Linux/X86_64, dollars per vCPU-hour. */
  public readonly fargateVcpuHourX86: number;
  /** Fargate Linux/X86_64, dollars per GB-hour of memory. */
  public readonly fargateGbHourX86: number;
  /** Fargate Linux/ARM64, dollars per vCPU-hour. */
  public readonly fargateVcpuHourArm: number;
  /** Fargate Linux/ARM64, dollars per GB-hour of memory. */
  public readonly fargateGbHourArm: number;
  /** Fargate ephemeral storage above the included 20 GiB, dollars per GB-hour. */
  public readonly fargateStorageGbHour: number;
  /** The Fargate Spot discount on vCPU and memory (0.7 pays 30%). */
  public readonly spotDiscount: number;

  private constructor(prices: PriceList) {
    this.region = prices.region;
    this.asOf = prices.asOf;
    this.lambdaGbSecondX86 = prices.lambdaGbSecondX86;
    this.lambdaGbSecondArm = prices.lambdaGbSecondArm;
    this.lambdaRequestsPerMillion = prices.lambdaRequestsPerMillion;
    this.fargateVcpuHourX86 = prices.fargateVcpuHourX86;
    this.fargateGbHourX86 = prices.fargateGbHourX86;
    this.fargateVcpuHourArm = prices.fargateVcpuHourArm;
    this.fargateGbHourArm = prices.fargateGbHourArm;
    this.fargateStorageGbHour = prices.fargateStorageGbHour;
    this.spotDiscount = prices.spotDiscount;
  }
}

/** A Lambda function's size, for pricing its invocations. */
export interface LambdaCostOptions {
  /** Configured memory: 128–10,240 MB (MiB), whole MB. 1,769 MB is one vCPU. */
  readonly memory: Size;

  /**
   * Instruction set: arm64 is about 20% cheaper per GB-second.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
}

/** One Lambda invocation to price. */
export interface LambdaCostProps extends LambdaCostOptions {
  /**
   * How long the handler runs, billed rounded up to the millisecond. Longer
   * than 15 minutes is priced, and flagged: Lambda would time out.
   */
  readonly duration: Duration;

  /**
   * The prices.
   * @default ComputePrices.US_EAST_1_2026_11
   */
  readonly prices?: ComputePrices;
}

/** A Fargate task's size and launch, for pricing its runs. */
export interface FargateCostOptions {
  /** Task cpu units: 256 (.25 vCPU), 512, 1024 (1 vCPU), 2048, 4096, 8192 or 16384. */
  readonly cpu: number;

  /** Task memory, valid with `cpu` (1 vCPU: 2–8 GiB, …). */
  readonly memory: Size;

  /**
   * CPU architecture.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly architecture?: ecs.CpuArchitecture;

  /**
   * Run on Fargate Spot (Linux/X86_64 only): the prices' Spot discount on
   * vCPU and memory; extra ephemeral storage is charged in full.
   * @default false
   */
  readonly spot?: boolean;

  /**
   * Task ephemeral storage, 20–200 GiB; above 20 GiB is charged.
   * @default Size.gibibytes(20)
   */
  readonly ephemeralStorage?: Size;

  /**
   * Billed time before the job's work starts: Fargate bills from the start
   * of the image pull, and tasks typically take 30–45 s to start.
   * @default Duration.seconds(35)
   */
  readonly startupTime?: Duration;
}

/** One Fargate task (one job) to price. */
export interface FargateCostProps extends FargateCostOptions {
  /** How long the job's work runs, after start-up. */
  readonly duration: Duration;

  /**
   * The prices.
   * @default ComputePrices.US_EAST_1_2026_11
   */
  readonly prices?: ComputePrices;
}

/** A Lambda function and a Fargate task that could each run the same job. */
export interface BreakEvenProps {
  /** The function. */
  readonly lambdaFunction: LambdaCostOptions;

  /** The task. */
  readonly fargateTask: FargateCostOptions;

  /**
   * The prices.
   * @default ComputePrices.US_EAST_1_2026_11
   */
  readonly prices?: ComputePrices;
}

/** What one job costs. */
export interface CostEstimate {
  /** Where the job runs. */
  readonly model: ComputeModel;

  /** US dollars per job, unrounded. */
  readonly dollars: number;

  /**
   * The time billed, in seconds: Lambda's run rounded up to the millisecond
   * (fractional), Fargate's start-up plus run rounded up to the second, at least 60.
   */
  readonly billedSeconds: number;

  /** The run is longer than a Lambda function may run (900 s); always false for Fargate. */
  readonly exceedsLambdaLimit: boolean;

  /** The estimate in a sentence, with the date and region of the prices. */
  readonly summary: string;
}

/** Where Lambda stops being the cheaper way to run one job. */
export interface BreakEven {
  /**
   * Lambda is cheaper for runs shorter than this, Fargate from about a
   * second longer (Fargate rounds up to the second).
   * @default - none: one side is always cheaper
   */
  readonly duration?: Duration;

  /** Lambda is cheaper at every duration up to its 900 s limit. */
  readonly lambdaAlwaysCheaper: boolean;

  /** Lambda is not cheaper even for the shortest run. */
  readonly fargateAlwaysCheaper: boolean;

  /** The result in a sentence, with the date and region of the prices. */
  readonly summary: string;
}

/**
 * Per-job cost estimates for Lambda and Fargate, and the run time at which
 * one becomes cheaper than the other: for choosing where a job runs, not
 * for billing. Estimates use dated list prices (`ComputePrices`); they leave
 * out free tiers, Savings Plans, data transfer, logs and Lambda `/tmp` above 512 MB.
 */
export class ComputeCost {
  /**
   * One Lambda invocation: memory (GB) × duration rounded up to the
   * millisecond × the architecture's GB-second price, plus one request.
   */
  public static lambdaInvocation(props: LambdaCostProps): CostEstimate {
    const shape = lambdaShape(props, props.prices);
    const durationMs = concreteMillis('lambda duration', props.duration);
    const cost = lambdaJobCost({ ...shape, durationMs });
    const limit = cost.exceedsLambdaLimit ? `; longer than Lambda's ${formatDuration(LAMBDA_MAX_DURATION_MS)} limit` : '';
    return {
      model: ComputeModel.LAMBDA,
      dollars: cost.dollars,
      billedSeconds: cost.billedMs / 1000,
      exceedsLambdaLimit: cost.exceedsLambdaLimit,
      summary: `${describeLambda(shape)} running ${formatDuration(durationMs)}: ${formatDollars(cost.dollars)} per job `
        + `(${cost.billedMs.toLocaleString('en-US')} ms billed and 1 request${limit}; ${pricesNote(shape.prices)})`,
    };
  }

  /**
   * One Fargate task that runs one job: vCPU, memory and ephemeral storage
   * above 20 GiB for start-up plus run, rounded up to the second, at least
   * one minute.
   */
  public static fargateTask(props: FargateCostProps): CostEstimate {
    const shape = fargateShape(props, props.prices);
    const durationMs = concreteMillis('fargate duration', props.duration);
    const cost = fargateJobCost({ ...shape, durationMs });
    const minimum = cost.billedSeconds === FARGATE_MINIMUM_BILLED_SECONDS ? ', the 1-minute minimum' : '';
    return {
      model: ComputeModel.FARGATE,
      dollars: cost.dollars,
      billedSeconds: cost.billedSeconds,
      exceedsLambdaLimit: false,
      summary: `${describeFargate(shape)} running ${formatDuration(durationMs)} after ${formatDuration(shape.startupMs)} of start-up: `
        + `${formatDollars(cost.dollars)} per job (${cost.billedSeconds.toLocaleString('en-US')} s billed${minimum}; ${pricesNote(shape.prices)})`,
    };
  }

  /**
   * The run time below which one Lambda invocation costs less than one
   * Fargate task doing the same job (with the task's start-up billed).
   */
  public static breakEven(props: BreakEvenProps): BreakEven {
    const lambdaSide = lambdaShape(props.lambdaFunction, props.prices);
    const fargateSide = fargateShape(props.fargateTask, props.prices);
    const ms = breakEvenMs(lambdaSide, fargateSide);
    const sides = `${describeLambda(lambdaSide)} vs ${describeFargate(fargateSide)} with ${formatDuration(fargateSide.startupMs)} of start-up`;
    const note = pricesNote(lambdaSide.prices);
    if (ms === undefined) {
      return { lambdaAlwaysCheaper: false, fargateAlwaysCheaper: true, summary: `${sides}: Fargate is cheaper per job at every duration (${note})` };
    }
    if (ms === Infinity) {
      return {
        lambdaAlwaysCheaper: true,
        fargateAlwaysCheaper: false,
        summary: `${sides}: Lambda is cheaper per job at every duration up to its ${formatDuration(LAMBDA_MAX_DURATION_MS)} limit (${note})`,
      };
    }
    const duration = Duration.millis(Math.round(ms));
    return {
      duration,
      lambdaAlwaysCheaper: false,
      fargateAlwaysCheaper: false,
      summary: `${sides}: Lambda is cheaper per job for runs shorter than ${formatDuration(ms)} (${note})`,
    };
  }

  private constructor() {}
}

function lambdaShape(options: LambdaCostOptions, prices: ComputePrices | undefined): Required<LambdaShape> {
  const architecture = options.architecture ?? lambda.Architecture.ARM_64;
  if (architecture.name !== lambda.Architecture.ARM_64.name && architecture.name !== lambda.Architecture.X86_64.name) {
    throw new Error(`lambda architecture must be ARM_64 or X86_64 to be priced, got '${architecture.name}'`);
  }
  return {
    memoryMiB: concreteMebibytes('lambda memory', options.memory),
    arm64: architecture.name === lambda.Architecture.ARM_64.name,
    prices: priceList(prices),
  };
}

function fargateShape(options: FargateCostOptions, prices: ComputePrices | undefined): Required<FargateShape> {
  if (Token.isUnresolved(options.cpu)) throw new Error(unresolved('fargate cpu'));
  const architecture = (options.architecture ?? ecs.CpuArchitecture.X86_64)._cpuArchitecture;
  if (architecture !== 'X86_64' && architecture !== 'ARM64') {
    throw new Error(`fargate cpu architecture must be X86_64 or ARM64 to be priced, got '${architecture}'`);
  }
  return {
    cpuUnits: options.cpu,
    memoryMiB: concreteMebibytes('fargate memory', options.memory),
    arm64: architecture === 'ARM64',
    spot: options.spot ?? false,
    ephemeralGiB: options.ephemeralStorage
      ? concreteMebibytes('fargate ephemeral storage', options.ephemeralStorage) / 1024
      : FARGATE_INCLUDED_STORAGE_GIB,
    startupMs: options.startupTime ? concreteMillis('fargate start-up time', options.startupTime) : DEFAULT_FARGATE_STARTUP_MS,
    prices: priceList(prices),
  };
}

function priceList(prices: ComputePrices | undefined): PriceList {
  return prices ?? ComputePrices.US_EAST_1_2026_11;
}

function unresolved(name: string): string {
  return `${name} must be a concrete value to estimate a cost, got an unresolved token (a value known only at deployment)`;
}

function concreteMillis(name: string, duration: Duration): number {
  if (duration.isUnresolved()) throw new Error(unresolved(name));
  return duration.toMilliseconds({ integral: false });
}

function concreteMebibytes(name: string, size: Size): number {
  if (size.isUnresolved()) throw new Error(unresolved(name));
  return size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
}

function describeLambda(shape: Required<LambdaShape>): string {
  return `Lambda ${shape.memoryMiB.toLocaleString('en-US')} MB ${shape.arm64 ? 'arm64' : 'x86_64'}`;
}

function describeFargate(shape: Required<FargateShape>): string {
  const storage = shape.ephemeralGiB > FARGATE_INCLUDED_STORAGE_GIB ? `, ${shape.ephemeralGiB} GiB storage` : '';
  return `Fargate ${shape.cpuUnits / 1024} vCPU / ${shape.memoryMiB / 1024} GiB ${shape.arm64 ? 'arm64' : 'x86_64'} `
    + `${shape.spot ? 'Spot' : 'on-demand'}${storage}`;
}

function pricesNote(prices: PriceList): string {
  return `${prices.region} prices as of ${prices.asOf}`;
}
