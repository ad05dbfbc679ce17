/**
 * Valid Fargate task sizes: cpu units → allowed memory (MiB). Plain data:
 * the constructs validate task definitions with it, and the cost estimates
 * (src/contract/compute-pricing.ts) the sizes they price.
 */
const FARGATE_SIZES: ReadonlyArray<{ cpu: number; min: number; max: number; step: number; extra?: number[] }> = [
  { cpu: 256, min: 1024, max: 2048, step: 1024, extra: [512] },
  { cpu: 512, min: 1024, max: 4096, step: 1024 },
  { cpu: 1024, min: 2048, max: 8192, step: 1024 },
  { cpu: 2048, min: 4096, max: 16384, step: 1024 },
  { cpu: 4096, min: 8192, max: 30720, step: 1024 },
  { cpu: 8192, min: 16384, max: 61440, step: 4096 },
  { cpu: 16384, min: 32768, max: 122880, step: 8192 },
];

function memoryOptions(cpu: number): number[] {
  const size = FARGATE_SIZES.find((s) => s.cpu === cpu);
  if (!size) return [];
  const out = [...(size.extra ?? [])];
  for (let m = size.min; m <= size.max; m += size.step) out.push(m);
  return out;
}

function describeRange(cpu: number): string {
  const size = FARGATE_SIZES.find((s) => s.cpu === cpu)!;
  const extra = size.extra ? `${size.extra.join(', ')}, ` : '';
  return `${extra}${size.min}-${size.max} in steps of ${size.step}`;
}

/**
 * Throws a message naming the valid values when (cpu, memory) is not a Fargate size.
 * `memoryName` is how the caller's API spells the memory (a prop name).
 */
export function validateFargateSize(cpu: number, memoryLimitMiB: number, memoryName = 'memoryLimitMiB'): void {
  const options = memoryOptions(cpu);
  if (options.length === 0) {
    throw new Error(`cpu ${cpu} is not a Fargate task size: use one of ${FARGATE_SIZES.map((s) => s.cpu).join(', ')}`);
  }
  if (!options.includes(memoryLimitMiB)) {
    throw new Error(`${memoryName} ${memoryLimitMiB} is not valid with cpu ${cpu} on Fargate: use ${describeRange(cpu)} MiB`);
  }
}
