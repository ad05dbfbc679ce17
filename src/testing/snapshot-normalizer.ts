const ASSET_HASH = /[0-9a-f]{64}/g;
const RUNTIME_MAP = 'LatestNodeRuntimeMap';
const normalized = new WeakSet<object>();

/**
 * Makes synthesized templates stable for snapshot tests: asset hashes change
 * with every dependency bump and `LatestNodeRuntimeMap` with every CDK
 * release, though the template means the same. Use `normalize()` on a
 * `Template.toJSON()`, or register `jestSerializer()` in a jest setup file:
 *
 * ```ts
 * expect.addSnapshotSerializer(SnapshotNormalizer.jestSerializer());
 * ```
 */
export class SnapshotNormalizer {
  /** The placeholder that replaces asset hashes. */
  public static readonly ASSET_HASH_PLACEHOLDER = 'ASSET_HASH';

  /** The placeholder that replaces the latest Node.js runtime lookups. */
  public static readonly NODE_RUNTIME_PLACEHOLDER = 'LATEST_NODE_RUNTIME';

  /**
   * A copy of a CloudFormation template (as JSON) with asset hashes and
   * `LatestNodeRuntimeMap` mappings and lookups replaced by placeholders.
   */
  public static normalize(template: any): any {
    const out = normalizeValue(template);
    if (out && typeof out === 'object') {
      if (out.Mappings && out.Mappings[RUNTIME_MAP]) {
        out.Mappings[RUNTIME_MAP] = SnapshotNormalizer.NODE_RUNTIME_PLACEHOLDER;
      }
      normalized.add(out);
    }
    return out;
  }

  /**
   * A jest snapshot serializer that normalizes every value that looks like a
   * CloudFormation template (has `Resources`).
   */
  public static jestSerializer(): any {
    return {
      test: (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value)
        && 'Resources' in value && !normalized.has(value),
      serialize: (value: unknown, config: unknown, indentation: string, depth: number, refs: unknown, printer: Function) =>
        printer(SnapshotNormalizer.normalize(value), config, indentation, depth, refs),
    };
  }

  private constructor() {}
}

function normalizeValue(value: any): any {
  if (typeof value === 'string') {
    return value.replace(ASSET_HASH, SnapshotNormalizer.ASSET_HASH_PLACEHOLDER);
  }
  if (Array.isArray(value)) {
    return value.map(normalizeValue);
  }
  if (value && typeof value === 'object') {
    const findInMap = value['Fn::FindInMap'];
    if (Array.isArray(findInMap) && findInMap[0] === RUNTIME_MAP) {
      return SnapshotNormalizer.NODE_RUNTIME_PLACEHOLDER;
    }
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k.replace(ASSET_HASH, SnapshotNormalizer.ASSET_HASH_PLACEHOLDER)] = normalizeValue(v);
    }
    return out;
  }
  return value;
}
