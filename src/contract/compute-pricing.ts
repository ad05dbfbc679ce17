/**
 * What one job costs on Lambda and on Fargate, from dated public prices.
 * Plain values and pure functions, no CDK imports: the `ComputeCost` API,
 * handlers and scripts all use them. Dollars are not rounded.
 */
import { validateFargateSize } from './fargate-sizes';

/** Where a job runs. */
export enum ComputeModel {
  /** An AWS Lambda function invocation. */
  LAMBDA = 'lambda',
  /** An Amazon ECS task on AWS Fargate. */
  FARGATE = 'fargate',
}

/** On-demand prices of one region at one date, in US dollars. */
export interface PriceList {
  /** The region the prices are for. */
  readonly region: string;
  /** The date the prices were read from the AWS price pages (YYYY-MM-DD). */
  readonly asOf: string;
  /** Lambda duration, x86_64, per GB-second (GB = 1,024 MB of configured memory). */
  readonly lambdaGbSecondX86: number;
  /** Lambda duration, arm64, per GB-second. */
  readonly lambdaGbSecondArm: number;
  /** Lambda requests, per million. */
  readonly lambdaRequestsPerMillion: number;
  /** Fargate Linux/x86_64, per vCPU-hour. */
  readonly fargateVcpuHourX86: number;
  /** Fargate Linux/x86_64, per GB-hour of memory. */
  readonly fargateGbHourX86: number;
  /** Fargate Linux/ARM (Graviton), per vCPU-hour. */
  readonly fargateVcpuHourArm: number;
  /** Fargate Linux/ARM (Graviton), per GB-hour of memory. */
  readonly fargateGbHourArm: number;
  /** Fargate ephemeral storage above the included 20 GB, per GB-hour. */
  readonly fargateStorageGbHour: number;
  /**
   * The Fargate Spot discount on vCPU and memory, from 0 to 1 (0.7 = pay 30%).
   * Spot prices move with supply and demand; AWS states "up to 70%".
   */
  readonly spotDiscount: number;
}

/**
 * us-east-1, read from aws.amazon.com/lambda/pricing and
 * aws.amazon.com/fargate/pricing on 2026-11-27. The Spot discount is the
 * advertised ceiling ("up to 70% off"); the live Spot rate is often less.
 * Lambda's first pricing tier (the first 6 billion GB-seconds a month) and
 * no free tier.
 */
export const DEFAULT_PRICES: PriceList = Object.freeze({
  region: 'us-east-1',
  asOf: '2026-11-27',
  lambdaGbSecondX86: 0.0000166667,
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequestsPerMillion: 0.20,
  fargateVcpuHourX86: 0.04048,
  fargateGbHourX86: 0.004445,
  fargateVcpuHourArm: 0.03238,
  fargateGbHourArm: 0.00356,
  fargateStorageGbHour: 0.000111,
  spotDiscount: 0.7,
});

/** The dollar amounts of a price list. */
export const PRICE_NAMES = [
  'lambdaGbSecondX86', 'lambdaGbSecondArm', 'lambdaRequestsPerMillion',
  'fargateVcpuHourX86', 'fargateGbHourX86', 'fargateVcpuHourArm', 'fargateGbHourArm', 'fargateStorageGbHour',
] as const;

/** Lambda memory: 128–10,240 MB in 1 MB steps (1,769 MB is one vCPU). */
export const LAMBDA_MIN_MEMORY_MIB = 128;
export const LAMBDA_MAX_MEMORY_MIB = 10_240;
/** Lambda's longest invocation: 15 minutes. */
export const LAMBDA_MAX_DURATION_MS = 900_000;
/** Fargate bills at least one minute per task. */
export const FARGATE_MINIMUM_BILLED_SECONDS = 60;
/** Ephemeral storage every Fargate task has at no charge, and the most it can have. */
export const FARGATE_INCLUDED_STORAGE_GIB = 20;
export const FARGATE_MAX_STORAGE_GIB = 200;
/**
 * Fargate bills from the start of the image pull; tasks typically take
 * 30–45 s from launch until the container runs.
 */
export const DEFAULT_FARGATE_STARTUP_MS = 35_000;

/** The size of a Lambda function, for pricing. */
export interface LambdaShape {
  /** Configured memory (MB, as Lambda spells MiB): 128–10,240. */
  readonly memoryMiB: number;
  /** arm64 (Graviton) rather than x86_64. */
  readonly arm64: boolean;
  /** @default DEFAULT_PRICES */
  readonly prices?: PriceList;
}

/** One Lambda invocation. */
export interface LambdaRun extends LambdaShape {
  /** How long the handler runs; billed rounded up to the millisecond. */
  readonly durationMs: number;
}

/** What one Lambda invocation costs. */
export interface LambdaJobCost {
  readonly dollars: number;
  /** The duration billed: the run rounded up to the millisecond. */
  readonly billedMs: number;
  /** The duration charge (GB-seconds × price). */
  readonly computeDollars: number;
  /** The request charge. */
  readonly requestDollars: number;
  /** The run is longer than Lambda allows (900 s): priced anyway, but it would time out. */
  readonly exceedsLambdaLimit: boolean;
}

/** The size and launch of a Fargate task, for pricing. */
export interface FargateShape {
  /** Task cpu units (1,024 = 1 vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384. */
  readonly cpuUnits: number;
  /** Task memory (MiB), valid with `cpuUnits`. */
  readonly memoryMiB: number;
  /** Linux/ARM64 (Graviton) rather than Linux/X86_64. */
  readonly arm64: boolean;
  /** Fargate Spot (x86_64 only). @default false */
  readonly spot?: boolean;
  /** Task ephemeral storage (GiB): 20–200, 20 included. @default 20 */
  readonly ephemeralGiB?: number;
  /** Billed time before the job's work starts (image pull, container start). @default DEFAULT_FARGATE_STARTUP_MS */
  readonly startupMs?: number;
  /** @default DEFAULT_PRICES */
  readonly prices?: PriceList;
}

/** One Fargate task that runs one job. */
export interface FargateRun extends FargateShape {
  /** How long the job's work runs, after start-up. */
  readonly durationMs: number;
}

/** What one Fargate task costs. */
export interface FargateJobCost {
  readonly dollars: number;
  /** Start-up plus run, rounded up to the second, at least 60. */
  readonly billedSeconds: number;
  readonly cpuDollars: number;
  readonly memoryDollars: number;
  /** Ephemeral storage above the included 20 GiB (never discounted on Spot). */
  readonly storageDollars: number;
}

/** Throws unless `prices` are non-negative numbers and the Spot discount is from 0 to 1. */
export function validatePrices(prices: PriceList): void {
  for (const name of PRICE_NAMES) {
    const value = prices[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`price ${name} must be a non-negative number of dollars, got ${value}`);
    }
  }
  const discount = prices.spotDiscount;
  if (typeof discount !== 'number' || !(discount >= 0 && discount <= 1)) {
    throw new Error(`spotDiscount must be from 0 to 1 (0.7 = 70% off), got ${discount}`);
  }
}

function validateDuration(name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Error(`${name} must be a non-negative number of milliseconds, got ${ms}`);
  }
}

function validateLambda(shape: LambdaShape): PriceList {
  const m = shape.memoryMiB;
  if (!Number.isInteger(m) || m < LAMBDA_MIN_MEMORY_MIB || m > LAMBDA_MAX_MEMORY_MIB) {
    throw new Error(`lambda memory must be a whole number of MB from ${LAMBDA_MIN_MEMORY_MIB} to ${LAMBDA_MAX_MEMORY_MIB}`
      + ` (1,769 MB is one vCPU), got ${m}`);
  }
  const prices = shape.prices ?? DEFAULT_PRICES;
  validatePrices(prices);
  return prices;
}

function validateFargate(shape: FargateShape): { prices: PriceList; startupMs: number; ephemeralGiB: number } {
  validateFargateSize(shape.cpuUnits, shape.memoryMiB, 'memory');
  if (shape.spot && shape.arm64) {
    throw new Error('fargate spot runs only Linux/X86_64 tasks: price an ARM64 task on-demand, or an X86_64 task on Spot');
  }
  const ephemeralGiB = shape.ephemeralGiB ?? FARGATE_INCLUDED_STORAGE_GIB;
  if (!Number.isInteger(ephemeralGiB) || ephemeralGiB < FARGATE_INCLUDED_STORAGE_GIB || ephemeralGiB > FARGATE_MAX_STORAGE_GIB) {
    throw new Error(`fargate ephemeral storage must be a whole number of GiB from ${FARGATE_INCLUDED_STORAGE_GIB} to ${FARGATE_MAX_STORAGE_GIB}`
      + ` (${FARGATE_INCLUDED_STORAGE_GIB} GiB are included), got ${ephemeralGiB}`);
  }
  const startupMs = shape.startupMs ?? DEFAULT_FARGATE_STARTUP_MS;
  validateDuration('fargate start-up time', startupMs);
  const prices = shape.prices ?? DEFAULT_PRICES;
  validatePrices(prices);
  return { prices, startupMs, ephemeralGiB };
}

/** Dollars per GB-second of the function's memory, and per request. */
function lambdaRates(shape: LambdaShape, prices: PriceList): { gbSecond: number; request: number } {
  return {
    gbSecond: shape.arm64 ? prices.lambdaGbSecondArm : prices.lambdaGbSecondX86,
    request: prices.lambdaRequestsPerMillion / 1e6,
  };
}

/**
 * Dollars per hour of the task's vCPU, memory and extra storage. Fargate Spot
 * prices list vCPU and memory only, so the discount applies to those and
 * extra ephemeral storage is charged at the on-demand price.
 */
function fargateHourly(shape: FargateShape, prices: PriceList, ephemeralGiB: number): { cpu: number; memory: number; storage: number } {
  const pay = shape.spot ? 1 - prices.spotDiscount : 1;
  const vcpu = shape.cpuUnits / 1024;
  const gb = shape.memoryMiB / 1024;
  return {
    cpu: vcpu * (shape.arm64 ? prices.fargateVcpuHourArm : prices.fargateVcpuHourX86) * pay,
    memory: gb * (shape.arm64 ? prices.fargateGbHourArm : prices.fargateGbHourX86) * pay,
    storage: (ephemeralGiB - FARGATE_INCLUDED_STORAGE_GIB) * prices.fargateStorageGbHour,
  };
}

/**
 * One Lambda invocation: GB-seconds (memory MB / 1,024 × duration rounded up
 * to the millisecond) at the architecture's price, plus one request.
 */
export function lambdaJobCost(job: LambdaRun): LambdaJobCost {
  validateDuration('lambda duration', job.durationMs);
  const prices = validateLambda(job);
  const rates = lambdaRates(job, prices);
  const billedMs = Math.ceil(job.durationMs);
  const computeDollars = (job.memoryMiB / 1024) * (billedMs / 1000) * rates.gbSecond;
  const requestDollars = rates.request;
  return {
    dollars: computeDollars + requestDollars,
    billedMs,
    computeDollars,
    requestDollars,
    exceedsLambdaLimit: job.durationMs > LAMBDA_MAX_DURATION_MS,
  };
}

/**
 * One Fargate task that runs one job: vCPU, memory and storage above 20 GiB
 * for start-up plus run, rounded up to the second, at least 60 seconds.
 */
export function fargateJobCost(job: FargateRun): FargateJobCost {
  validateDuration('fargate duration', job.durationMs);
  const { prices, startupMs, ephemeralGiB } = validateFargate(job);
  const billedSeconds = Math.max(FARGATE_MINIMUM_BILLED_SECONDS, Math.ceil((startupMs + job.durationMs) / 1000));
  const hourly = fargateHourly(job, prices, ephemeralGiB);
  const hours = billedSeconds / 3600;
  const cpuDollars = hourly.cpu * hours;
  const memoryDollars = hourly.memory * hours;
  const storageDollars = hourly.storage * hours;
  return { dollars: cpuDollars + memoryDollars + storageDollars, billedSeconds, cpuDollars, memoryDollars, storageDollars };
}

/**
 * The run duration (ms) below which one Lambda invocation costs less than one
 * Fargate task doing the same work, and from which it does not.
 *
 * - `Infinity`: Lambda is cheaper at every duration up to its 900 s limit.
 * - `undefined`: Lambda is not cheaper even for a 0 ms run.
 *
 * Solved exactly on the cost lines (not by search): Lambda's is
 * `request + perMs × d`; Fargate's is flat at its 60 s minimum until
 * start-up + d reaches 60 s, then `perMs × (startup + d)`. The difference
 * (Lambda − Fargate) is linear on each of the two pieces, so each piece has
 * at most one root. The per-second rounding of Fargate is left out: it makes
 * the two costs alternate for about a second past the break-even (Lambda is
 * cheaper at every duration below it, and Fargate from about a second after).
 *
 * The difference rises on the flat piece and falls on the second only when a
 * Lambda second costs less than a Fargate second (a function much smaller
 * than the task); it then peaks where the minimum ends. The result is the
 * first duration where Lambda stops being cheaper; in that rare case Lambda
 * can be cheaper again for runs much longer than the break-even.
 */
export function breakEvenMs(lambda: LambdaShape, fargate: FargateShape): number | undefined {
  const lambdaPrices = validateLambda(lambda);
  const { prices: fargatePrices, startupMs, ephemeralGiB } = validateFargate(fargate);
  const l = lambdaRates(lambda, lambdaPrices);
  const hourly = fargateHourly(fargate, fargatePrices, ephemeralGiB);
  // Dollars per ms of run: Lambda (b), Fargate (c); Lambda's fixed cost per run (a).
  const a = l.request;
  const b = (lambda.memoryMiB / 1024) * l.gbSecond / 1000;
  const c = (hourly.cpu + hourly.memory + hourly.storage) / 3_600_000;
  const minimumMs = FARGATE_MINIMUM_BILLED_SECONDS * 1000;
  // The flat piece [0, end): Fargate costs c × minimumMs whatever the run.
  const flatEnd = Math.max(0, minimumMs - startupMs);
  const diff = (d: number) => a + b * d - c * Math.max(minimumMs, startupMs + d);
  if (diff(0) >= 0) return undefined;
  // First piece: a + b·d = c·minimumMs (it ends within a minute, well inside Lambda's limit).
  const flatRoot = (c * minimumMs - a) / b;
  if (flatRoot < flatEnd) return flatRoot;
  // Second piece: a + b·d = c·(startup + d), a root only if the difference rises there.
  if (diff(flatEnd) >= 0) return flatEnd;
  // Falling (or level) past the minimum after staying negative: Lambda stays cheaper.
  if (b <= c) return Infinity;
  const root = (c * startupMs - a) / (b - c);
  return root > LAMBDA_MAX_DURATION_MS ? Infinity : root;
}

/** A run time for people: `850 ms`, `10 s`, `37.0 s`, `5 min`, `1 h 30 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return Number.isInteger(seconds) ? `${seconds} s` : `${seconds.toFixed(1)} s`;
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h} h` : '', min ? `${min} min` : '', s ? formatDuration(s * 1000) : ''].filter(Boolean).join(' ');
}

/** Dollars with three significant digits and no exponent: `$0.000134`, `$1.23`. */
export function formatDollars(dollars: number): string {
  if (dollars === 0) return '$0.00';
  const digits = Math.max(2, 2 - Math.floor(Math.log10(Math.abs(dollars))));
  return `$${dollars.toFixed(digits)}`;
}
