import { Duration, Lazy, Size, Token, aws_ecs as ecs, aws_lambda as lambda } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { ComputeCost, ComputeModel, ComputePrices } from '../../src';
import {
  breakEvenMs, DEFAULT_PRICES, fargateJobCost, FargateShape, formatDollars, formatDuration, lambdaJobCost, LambdaShape,
} from '../../src/contract/compute-pricing';

// Prices used below (us-east-1, 2026-11-27): Lambda $0.0000166667 (x86_64) / $0.0000133334 (arm64)
// per GB-second, $0.0000002 per request; Fargate x86_64 $0.04048 per vCPU-hour + $0.004445 per
// GB-hour, ARM64 $0.03238 + $0.00356; storage above 20 GiB $0.000111 per GB-hour; Spot pays 30%.

/** Every digit that matters of a per-job cost (1e-12 dollars). */
const DIGITS = 12;

describe('ComputeCost.lambdaInvocation', () => {
  test('1,024 MB arm64 (the default) for 10 s: 10 GB-s × $0.0000133334 + 1 request', () => {
    // 1,024 MB = 1 GB; 1 GB × 10 s = 10 GB-s; 10 × 0.0000133334 = 0.000133334; + 0.20 / 1e6 = 0.0000002 → 0.000133534
    const estimate = ComputeCost.lambdaInvocation({ memory: Size.mebibytes(1024), duration: Duration.seconds(10) });
    expect(estimate.dollars).toBeCloseTo(0.000133534, DIGITS);
    expect(estimate).toMatchObject({ model: ComputeModel.LAMBDA, billedSeconds: 10, exceedsLambdaLimit: false });
    expect(estimate.summary).toBe('Lambda 1,024 MB arm64 running 10 s: $0.000134 per job (10,000 ms billed and 1 request; '
      + 'us-east-1 prices as of 2026-11-27)');
  });

  test('x86_64 is billed per millisecond, rounded up', () => {
    // 1.2 ms → 2 ms billed; 128 MB = 0.125 GB; 0.125 × 0.002 s = 0.00025 GB-s × 0.0000166667 = 0.00000000416667500
    // + 0.0000002 (request) = 0.000000204166675
    const estimate = ComputeCost.lambdaInvocation({
      memory: Size.mebibytes(128), duration: Duration.millis(1.2), architecture: lambda.Architecture.X86_64,
    });
    expect(estimate.dollars).toBeCloseTo(0.000000204166675, 15);
    expect(estimate.billedSeconds).toBe(0.002);
  });

  test('a run longer than 900 s is priced and flagged', () => {
    // 2 GB × 1,200 s = 2,400 GB-s × 0.0000133334 = 0.03200016; + 0.0000002 = 0.03200036
    const estimate = ComputeCost.lambdaInvocation({ memory: Size.gibibytes(2), duration: Duration.minutes(20) });
    expect(estimate.dollars).toBeCloseTo(0.03200036, DIGITS);
    expect(estimate.exceedsLambdaLimit).toBe(true);
    expect(estimate.summary).toContain("longer than Lambda's 15 min limit");
    expect(ComputeCost.lambdaInvocation({ memory: Size.gibibytes(2), duration: Duration.minutes(15) }).exceedsLambdaLimit).toBe(false);
  });

  test.each([
    ['100 MB', Size.mebibytes(100), 'lambda memory must be a whole number of MB from 128 to 10240 (1,769 MB is one vCPU), got 100'],
    ['10,241 MB', Size.mebibytes(10_241), 'lambda memory must be a whole number of MB from 128 to 10240 (1,769 MB is one vCPU), got 10241'],
    ['195.3125 MB', Size.kibibytes(200_000), 'lambda memory must be a whole number of MB from 128 to 10240 (1,769 MB is one vCPU), got 195.3125'],
  ])('memory of %s is rejected', (_name, memory, message) => {
    expect(() => ComputeCost.lambdaInvocation({ memory, duration: Duration.seconds(1) })).toThrow(message);
  });

  test('an architecture Lambda does not price is rejected', () => {
    expect(() => ComputeCost.lambdaInvocation({
      memory: Size.gibibytes(1), duration: Duration.seconds(1), architecture: lambda.Architecture.custom('riscv64'),
    })).toThrow("lambda architecture must be ARM_64 or X86_64 to be priced, got 'riscv64'");
  });
});

describe('ComputeCost.fargateTask', () => {
  // 0.25 vCPU / 0.5 GB x86_64 per hour: 0.25 × 0.04048 + 0.5 × 0.004445 = 0.01012 + 0.0022225 = 0.0123425
  const quarter = { cpu: 256, memory: Size.mebibytes(512) };

  test('a 5 s job after 35 s of start-up is billed the 1-minute minimum', () => {
    // 35 s + 5 s = 40 s → 60 s billed; 0.0123425 × 60 / 3600 = 0.000205708333…
    const estimate = ComputeCost.fargateTask({ ...quarter, duration: Duration.seconds(5) });
    expect(estimate.dollars).toBeCloseTo(0.0123425 / 60, DIGITS);
    expect(estimate.dollars).toBeCloseTo(0.000205708333, DIGITS);
    expect(estimate).toMatchObject({ model: ComputeModel.FARGATE, billedSeconds: 60, exceedsLambdaLimit: false });
    expect(estimate.summary).toBe('Fargate 0.25 vCPU / 0.5 GiB x86_64 on-demand running 5 s after 35 s of start-up: $0.000206 per job '
      + '(60 s billed, the 1-minute minimum; us-east-1 prices as of 2026-11-27)');
  });

  test('the same job on Spot pays 30% of vCPU and memory', () => {
    // 0.0123425 × 0.3 = 0.00370275 per hour; × 60 / 3600 = 0.0000617125
    const estimate = ComputeCost.fargateTask({ ...quarter, duration: Duration.seconds(5), spot: true });
    expect(estimate.dollars).toBeCloseTo(0.0000617125, DIGITS);
    expect(estimate.billedSeconds).toBe(60);
  });

  test('past the minimum, start-up plus run is billed per second', () => {
    // 35 s + 100 s = 135 s billed; 0.0123425 × 135 / 3600 = 0.0123425 × 0.0375 = 0.00046284375
    const estimate = ComputeCost.fargateTask({ ...quarter, duration: Duration.seconds(100) });
    expect(estimate.billedSeconds).toBe(135);
    expect(estimate.dollars).toBeCloseTo(0.00046284375, DIGITS);
    // 35 s + 100.2 s = 135.2 s → 136 s billed
    expect(ComputeCost.fargateTask({ ...quarter, duration: Duration.millis(100_200) }).billedSeconds).toBe(136);
  });

  test('ephemeral storage above 20 GiB is charged per GB-hour, in full on Spot', () => {
    // 50 GiB for 1 h (no start-up): (50 − 20) × 0.000111 = 0.00333; + 0.0123425 (vCPU and memory) = 0.0156725
    const hour = { ...quarter, duration: Duration.hours(1), startupTime: Duration.seconds(0), ephemeralStorage: Size.gibibytes(50) };
    expect(ComputeCost.fargateTask(hour).dollars).toBeCloseTo(0.0156725, DIGITS);
    // Spot: 0.00370275 + 0.00333 (storage not discounted: the Spot price table lists vCPU and memory only) = 0.00703275
    expect(ComputeCost.fargateTask({ ...hour, spot: true }).dollars).toBeCloseTo(0.00703275, DIGITS);
    const parts = fargateJobCost({ cpuUnits: 256, memoryMiB: 512, arm64: false, spot: true, ephemeralGiB: 50, startupMs: 0, durationMs: 3_600_000 });
    expect(parts.storageDollars).toBeCloseTo(0.00333, DIGITS);
    expect(parts.cpuDollars).toBeCloseTo(0.01012 * 0.3, DIGITS);
    expect(parts.memoryDollars).toBeCloseTo(0.0022225 * 0.3, DIGITS);
    // 20 GiB (the default) costs nothing extra
    expect(ComputeCost.fargateTask({ ...hour, ephemeralStorage: Size.gibibytes(20) }).dollars).toBeCloseTo(0.0123425, DIGITS);
  });

  test('ARM64 uses the Graviton prices', () => {
    // 1 vCPU / 2 GB: 0.03238 + 2 × 0.00356 = 0.0395 per hour; 35 s + 600 s = 635 s; 0.0395 × 635 / 3600 = 0.00696736111…
    const estimate = ComputeCost.fargateTask({
      cpu: 1024, memory: Size.gibibytes(2), architecture: ecs.CpuArchitecture.ARM64, duration: Duration.minutes(10),
    });
    expect(estimate.dollars).toBeCloseTo(0.00696736111, 11);
    expect(estimate.billedSeconds).toBe(635);
  });

  test.each([
    ['1 vCPU / 1 GiB', { cpu: 1024, memory: Size.gibibytes(1) }, 'memory 1024 is not valid with cpu 1024 on Fargate: use 2048-8192 in steps of 1024 MiB'],
    ['0.25 vCPU / 4 GiB', { cpu: 256, memory: Size.gibibytes(4) }, 'memory 4096 is not valid with cpu 256 on Fargate: use 512, 1024-2048 in steps of 1024 MiB'],
    ['8 vCPU / 18 GiB', { cpu: 8192, memory: Size.gibibytes(18) }, 'memory 18432 is not valid with cpu 8192 on Fargate: use 16384-61440 in steps of 4096 MiB'],
    ['cpu 1000', { cpu: 1000, memory: Size.gibibytes(2) }, 'cpu 1000 is not a Fargate task size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384'],
  ])('an invalid size is rejected: %s', (_name, size, message) => {
    expect(() => ComputeCost.fargateTask({ ...size, duration: Duration.seconds(1) })).toThrow(message);
  });

  test('Spot with ARM64 is rejected: Fargate Spot runs only Linux/X86_64 tasks', () => {
    expect(() => ComputeCost.fargateTask({ ...quarter, duration: Duration.seconds(1), spot: true, architecture: ecs.CpuArchitecture.ARM64 }))
      .toThrow('fargate spot runs only Linux/X86_64 tasks: price an ARM64 task on-demand, or an X86_64 task on Spot');
  });

  test.each([10, 201])('ephemeral storage of %d GiB is rejected', (gib) => {
    expect(() => ComputeCost.fargateTask({ ...quarter, duration: Duration.seconds(1), ephemeralStorage: Size.gibibytes(gib) }))
      .toThrow(`fargate ephemeral storage must be a whole number of GiB from 20 to 200 (20 GiB are included), got ${gib}`);
  });

  test('an unknown CPU architecture is rejected', () => {
    expect(() => ComputeCost.fargateTask({ ...quarter, duration: Duration.seconds(1), architecture: ecs.CpuArchitecture.of('MIPS') }))
      .toThrow("fargate cpu architecture must be X86_64 or ARM64 to be priced, got 'MIPS'");
  });
});

describe('ComputeCost.breakEven at 1 vCPU / 2 GiB (Lambda 2,048 MB arm64)', () => {
  // Per second of run: Lambda 2 GB × 0.0000133334 = 0.0000266668 (+ 0.0000002 per request).
  // Fargate x86_64 on-demand: (0.04048 + 2 × 0.004445) / 3600 = 0.04937 / 3600 = 0.0000137138889;
  //   ARM64: 0.0395 / 3600 = 0.0000109722222; x86_64 Spot: 0.3 × 0.0000137138889 = 0.0000041141667.
  // Fargate is billed at least 60 s, and the 35 s start-up counts: its cost is flat for the first 25 s of run.
  // The rule of thumb — Lambda cheaper below roughly 25–30 s at equal size, about 9 s against
  // Spot — leaves the start-up out. It holds where the crossing is inside the flat piece (ARM64, Spot);
  // for x86_64 on-demand the minimum alone would give 30.8 s, but that is past the 25 s the minimum
  // covers once start-up is billed, so the crossing is on the per-second piece, at 37.0 s.
  const lambdaFunction = { memory: Size.mebibytes(2048) };
  const task = { cpu: 1024, memory: Size.gibibytes(2) };

  test('x86_64 on-demand: 37.0 s with the start-up billed, 30.8 s without', () => {
    // Flat piece: 0.0000002 + 0.0000266668 d = 60 × 0.0000137138889 = 0.000822833 → d = 30.849 s > 25 s, not on it.
    // Per-second piece: 0.0000002 + 0.0000266668 d = 0.0000137138889 × (35 + d)
    //   → d = (0.000479986111 − 0.0000002) / (0.0000266668 − 0.0000137138889) = 0.000479786111 / 0.0000129529111 = 37.0408 s
    const result = ComputeCost.breakEven({ lambdaFunction, fargateTask: task });
    expect(result).toMatchObject({ lambdaAlwaysCheaper: false, fargateAlwaysCheaper: false });
    expect(result.duration!.toMilliseconds()).toBe(37_041);
    expect(result.summary).toBe('Lambda 2,048 MB arm64 vs Fargate 1 vCPU / 2 GiB x86_64 on-demand with 35 s of start-up: '
      + 'Lambda is cheaper per job for runs shorter than 37.0 s (us-east-1 prices as of 2026-11-27)');
    // Without start-up the flat piece lasts 60 s and holds the crossing: 0.000822633333 / 0.0000266668 = 30.8486 s
    const noStartup = ComputeCost.breakEven({ lambdaFunction, fargateTask: { ...task, startupTime: Duration.seconds(0) } });
    expect(noStartup.duration!.toMilliseconds()).toBe(30_849);
  });

  test('ARM64 on-demand: 24.7 s', () => {
    // Flat piece: (60 × 0.0000109722222 − 0.0000002) / 0.0000266668 = (0.000658333333 − 0.0000002) / 0.0000266668 = 24.6799 s (< 25 s)
    const result = ComputeCost.breakEven({ lambdaFunction, fargateTask: { ...task, architecture: ecs.CpuArchitecture.ARM64 } });
    expect(result.duration!.toMilliseconds()).toBe(24_680);
  });

  test('x86_64 Spot: 9.2 s', () => {
    // Flat piece: (60 × 0.0000041141667 − 0.0000002) / 0.0000266668 = (0.00024685 − 0.0000002) / 0.0000266668 = 9.2493 s
    const result = ComputeCost.breakEven({ lambdaFunction, fargateTask: { ...task, spot: true } });
    expect(result.duration!.toMilliseconds()).toBe(9_249);
  });

  test.each([
    ['x86_64 on-demand', {}],
    ['ARM64', { architecture: ecs.CpuArchitecture.ARM64 }],
    ['Spot', { spot: true }],
  ])('%s: the billed costs agree — Lambda cheaper a second below, Fargate cheaper 1.1 s above', (_name, variant) => {
    const fargateTask = { ...task, ...variant };
    const ms = ComputeCost.breakEven({ lambdaFunction, fargateTask }).duration!.toMilliseconds();
    const at = (d: number) => ComputeCost.lambdaInvocation({ ...lambdaFunction, duration: Duration.millis(d) }).dollars
      - ComputeCost.fargateTask({ ...fargateTask, duration: Duration.millis(d) }).dollars;
    expect(at(ms - 1000)).toBeLessThan(0);
    // Fargate rounds up to the second: for up to c / (b − c) = 1.06 s past the x86_64 break-even the two alternate.
    expect(at(ms + 1100)).toBeGreaterThan(0);
  });

  test('Lambda always cheaper: a Lambda second costs less than a Fargate second, and the minimum is not reached', () => {
    // Lambda 1 GB arm64: 0.0000133334 per s; Fargate 4 vCPU / 8 GB: (4 × 0.04048 + 8 × 0.004445) / 3600 = 0.0000548556 per s
    const result = ComputeCost.breakEven({ lambdaFunction: { memory: Size.gibibytes(1) }, fargateTask: { cpu: 4096, memory: Size.gibibytes(8) } });
    expect(result).toEqual({
      lambdaAlwaysCheaper: true,
      fargateAlwaysCheaper: false,
      summary: 'Lambda 1,024 MB arm64 vs Fargate 4 vCPU / 8 GiB x86_64 on-demand with 35 s of start-up: '
        + 'Lambda is cheaper per job at every duration up to its 15 min limit (us-east-1 prices as of 2026-11-27)',
    });
  });

  test('Lambda always cheaper: 128 MB x86_64 against the smallest task', () => {
    // Lambda 128 MB x86_64: 0.125 × 0.0000166667 = 0.00000208334 per s; Fargate 0.25 vCPU / 0.5 GB: 0.0123425 / 3600
    // = 0.00000342847 per s, at least 60 s (0.000205708): Lambda's second is cheaper and a 900 s run costs 0.0018752.
    expect(ComputeCost.breakEven({
      lambdaFunction: { memory: Size.mebibytes(128), architecture: lambda.Architecture.X86_64 },
      fargateTask: { cpu: 256, memory: Size.mebibytes(512) },
    }).lambdaAlwaysCheaper).toBe(true);
  });

  test('Lambda always cheaper within its limit: the crossing would come after 900 s', () => {
    // Lambda 1,024 MB x86_64: 0.0000166667 per s. Fargate 1 vCPU / 4 GB x86_64: (0.04048 + 4 × 0.004445) / 3600 = 0.05826 / 3600
    // = 0.0000161833 per s. Flat piece: (60 × 0.0000161833 − 0.0000002) / 0.0000166667 = 58.25 s, past its 25 s.
    // Per-second piece: (35 × 0.0000161833 − 0.0000002) / (0.0000166667 − 0.0000161833) = 0.000566217 / 0.000000483367 = 1,171 s > 900 s.
    const result = ComputeCost.breakEven({
      lambdaFunction: { memory: Size.gibibytes(1), architecture: lambda.Architecture.X86_64 }, fargateTask: { cpu: 1024, memory: Size.gibibytes(4) },
    });
    expect(result).toMatchObject({ lambdaAlwaysCheaper: true, fargateAlwaysCheaper: false });
    expect(result.duration).toBeUndefined();
    expect(breakEvenMs({ memoryMiB: 1024, arm64: false }, { cpuUnits: 1024, memoryMiB: 4096, arm64: false })).toBe(Infinity);
  });

  test('when a Lambda second costs exactly a Fargate second, they meet where the minimum ends', () => {
    // Made-up prices: Lambda 1 GB at $1 per GB-second, Fargate 1 vCPU at $3,600 per vCPU-hour (memory free), no request
    // charge, no start-up: both $0.001 per ms, Fargate at least 60 s × $1 = $60; the costs meet at 60 s and stay equal.
    const prices = { ...DEFAULT_PRICES, lambdaGbSecondX86: 1, lambdaRequestsPerMillion: 0, fargateVcpuHourX86: 3600, fargateGbHourX86: 0 };
    expect(breakEvenMs({ memoryMiB: 1024, arm64: false, prices }, { cpuUnits: 1024, memoryMiB: 2048, arm64: false, startupMs: 0, prices }))
      .toBe(60_000);
  });

  test('Fargate always cheaper: even a 0 ms Lambda run costs more (a request price above the Fargate minimum)', () => {
    const prices = ComputePrices.custom({ lambdaRequestsPerMillion: 1_000 }); // $0.001 per request > 60 s × 0.0000137 = $0.000823
    const result = ComputeCost.breakEven({ lambdaFunction, fargateTask: task, prices });
    expect(result).toMatchObject({ lambdaAlwaysCheaper: false, fargateAlwaysCheaper: true });
    expect(result.duration).toBeUndefined();
  });
});

describe('ComputePrices', () => {
  test('the default prices are dated and from us-east-1', () => {
    expect(ComputePrices.US_EAST_1_2026_11).toMatchObject({ ...DEFAULT_PRICES });
    expect(ComputePrices.US_EAST_1_2026_11).toMatchObject({ region: 'us-east-1', asOf: '2026-11-27', spotDiscount: 0.7 });
  });

  test('custom() overrides any price, the rest from basedOn', () => {
    const half = ComputePrices.custom({ spotDiscount: 0.5, asOf: '2027-01-05' });
    expect(half).toMatchObject({ ...DEFAULT_PRICES, spotDiscount: 0.5, asOf: '2027-01-05' });
    const chained = ComputePrices.custom({ basedOn: half, region: 'eu-west-1', fargateVcpuHourX86: 0.04656 });
    expect(chained).toMatchObject({ spotDiscount: 0.5, region: 'eu-west-1', fargateVcpuHourX86: 0.04656, fargateGbHourX86: 0.004445 });
    // Spot at 50%: 0.0123425 × 0.5 / 60 (one billed minute)
    const spot = ComputeCost.fargateTask({ cpu: 256, memory: Size.mebibytes(512), duration: Duration.seconds(1), spot: true, prices: half });
    expect(spot.dollars).toBeCloseTo(0.0123425 * 0.5 / 60, DIGITS);
    expect(spot.summary).toContain('us-east-1 prices as of 2027-01-05');
  });

  test.each([
    ['a negative price', { lambdaGbSecondArm: -1 }, 'price lambdaGbSecondArm must be a non-negative number of dollars, got -1'],
    ['NaN', { fargateStorageGbHour: NaN }, 'price fargateStorageGbHour must be a non-negative number of dollars, got NaN'],
    ['a discount above 1', { spotDiscount: 1.5 }, 'spotDiscount must be from 0 to 1 (0.7 = 70% off), got 1.5'],
    ['a token', { fargateGbHourArm: Token.asNumber(Lazy.number({ produce: () => 1 })) }, 'compute price fargateGbHourArm must be a concrete value, not a token'],
  ])('invalid prices are rejected: %s', (_name, props, message) => {
    expect(() => ComputePrices.custom(props)).toThrow(message);
  });
});

describe('unresolved tokens', () => {
  const token = () => Token.asNumber(Lazy.number({ produce: () => 1024 }));
  test.each([
    ['lambda memory', () => ComputeCost.lambdaInvocation({ memory: Size.mebibytes(token()), duration: Duration.seconds(1) })],
    ['lambda duration', () => ComputeCost.lambdaInvocation({ memory: Size.gibibytes(1), duration: Duration.seconds(token()) })],
    ['fargate cpu', () => ComputeCost.fargateTask({ cpu: token(), memory: Size.gibibytes(2), duration: Duration.seconds(1) })],
    ['fargate memory', () => ComputeCost.fargateTask({ cpu: 1024, memory: Size.mebibytes(token()), duration: Duration.seconds(1) })],
    ['fargate start-up time', () => ComputeCost.fargateTask({
      cpu: 1024, memory: Size.gibibytes(2), duration: Duration.seconds(1), startupTime: Duration.seconds(token()),
    })],
    ['fargate ephemeral storage', () => ComputeCost.breakEven({
      lambdaFunction: { memory: Size.gibibytes(1) }, fargateTask: { cpu: 1024, memory: Size.gibibytes(2), ephemeralStorage: Size.gibibytes(token()) },
    })],
  ])('%s: a cost needs concrete numbers', (name, run) => {
    expect(run).toThrow(`${name} must be a concrete value to estimate a cost, got an unresolved token (a value known only at deployment)`);
  });
});

describe('the contract functions', () => {
  test('reject negative durations and start-up times', () => {
    expect(() => lambdaJobCost({ memoryMiB: 1024, arm64: true, durationMs: -1 }))
      .toThrow('lambda duration must be a non-negative number of milliseconds, got -1');
    expect(() => fargateJobCost({ cpuUnits: 256, memoryMiB: 512, arm64: false, durationMs: -5 }))
      .toThrow('fargate duration must be a non-negative number of milliseconds, got -5');
    expect(() => fargateJobCost({ cpuUnits: 256, memoryMiB: 512, arm64: false, durationMs: 1, startupMs: Infinity }))
      .toThrow('fargate start-up time must be a non-negative number of milliseconds, got Infinity');
  });

  test('default to 35 s of start-up, 20 GiB of storage, on-demand and the 2026-11 prices', () => {
    // 0.25 vCPU / 0.5 GB x86_64, 30 s + 35 s = 65 s billed: 0.0123425 × 65 / 3600 = 0.000222850694…
    expect(fargateJobCost({ cpuUnits: 256, memoryMiB: 512, arm64: false, durationMs: 30_000 })).toEqual({
      dollars: expect.closeTo(0.0123425 * 65 / 3600, DIGITS),
      billedSeconds: 65,
      cpuDollars: expect.closeTo(0.01012 * 65 / 3600, DIGITS),
      memoryDollars: expect.closeTo(0.0022225 * 65 / 3600, DIGITS),
      storageDollars: 0,
    });
  });

  test('split a Lambda cost into duration and request', () => {
    // 1 GB × 10 s × 0.0000133334 = 0.000133334; request 0.0000002
    expect(lambdaJobCost({ memoryMiB: 1024, arm64: true, durationMs: 9_999.1 })).toEqual({
      dollars: expect.closeTo(0.000133534, DIGITS),
      billedMs: 10_000,
      computeDollars: expect.closeTo(0.000133334, DIGITS),
      requestDollars: expect.closeTo(0.0000002, DIGITS),
      exceedsLambdaLimit: false,
    });
  });

  test('format dollars with three significant digits and durations for people', () => {
    expect([0.000133534, 0.0000002, 1.234, 123.4, 0].map(formatDollars)).toEqual(['$0.000134', '$0.000000200', '$1.23', '$123.40', '$0.00']);
    expect([850, 10_000, 37_040.8, 60_000, 61_500, 900_000, 3_600_000, 5_400_000].map(formatDuration))
      .toEqual(['850 ms', '10 s', '37.0 s', '1 min', '1 min 1.5 s', '15 min', '1 h', '1 h 30 min']);
  });
});

describe('properties', () => {
  const lambdaShape = fc.record({ memoryMiB: fc.integer({ min: 128, max: 10_240 }), arm64: fc.boolean() });
  // Valid Fargate sizes (cpu units, memory MiB), either architecture; Spot only on x86_64.
  const fargateShape = fc.record({
    size: fc.constantFrom(
      [256, 512], [256, 2048], [512, 4096], [1024, 2048], [1024, 8192], [2048, 4096], [4096, 30_720], [8192, 16_384], [16_384, 122_880],
    ),
    arm64: fc.boolean(),
    spot: fc.boolean(),
    ephemeralGiB: fc.integer({ min: 20, max: 200 }),
    startupMs: fc.integer({ min: 0, max: 120_000 }),
  }).map(({ size, arm64, spot, ephemeralGiB, startupMs }): FargateShape => ({
    cpuUnits: size[0], memoryMiB: size[1], arm64, spot: spot && !arm64, ephemeralGiB, startupMs,
  }));
  const durations = fc.tuple(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 2_000_000 }));

  test('a longer run never costs less', () => {
    fc.assert(fc.property(lambdaShape, fargateShape, durations, (l, f, [x, y]) => {
      const [short, long] = x <= y ? [x, y] : [y, x];
      expect(lambdaJobCost({ ...l, durationMs: short }).dollars).toBeLessThanOrEqual(lambdaJobCost({ ...l, durationMs: long }).dollars);
      expect(fargateJobCost({ ...f, durationMs: short }).dollars).toBeLessThanOrEqual(fargateJobCost({ ...f, durationMs: long }).dollars);
    }));
  });

  test('Fargate costs the same for every run that ends within the minute', () => {
    fc.assert(fc.property(fargateShape, fc.double({ min: 0, max: 1, noNaN: true }), (f, share) => {
      const room = Math.max(0, 60_000 - f.startupMs!);
      const cost = fargateJobCost({ ...f, durationMs: room * share });
      expect(cost.billedSeconds).toBe(Math.max(60, Math.ceil(f.startupMs! / 1000)));
      expect(cost.dollars).toBe(fargateJobCost({ ...f, durationMs: 0 }).dollars);
    }));
  });

  test('below the break-even Lambda is cheaper; with none, one side is cheaper throughout', () => {
    fc.assert(fc.property(lambdaShape, fargateShape, fc.double({ min: 0, max: 1, noNaN: true }), (l: LambdaShape, f, share) => {
      const ms = breakEvenMs(l, f);
      const diff = (d: number) => lambdaJobCost({ ...l, durationMs: d }).dollars - fargateJobCost({ ...f, durationMs: d }).dollars;
      if (ms === undefined) {
        expect(diff(0)).toBeGreaterThanOrEqual(0);
      } else if (ms === Infinity) {
        expect(diff(Math.floor(900_000 * share))).toBeLessThan(0);
        expect(diff(900_000)).toBeLessThan(0);
      } else {
        // whole milliseconds at least 1 ms below: Lambda bills whole milliseconds
        expect(diff(Math.floor((ms - 1) * share))).toBeLessThan(0);
        expect(ms).toBeLessThanOrEqual(900_000);
      }
    }), { numRuns: 500 });
  });
});
