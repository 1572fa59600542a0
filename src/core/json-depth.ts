// How deep a parsed JSON value nests. JSON.parse is iterative and accepts any depth, but
// JSON.stringify, validators and codecs recurse: a 12 KB body of 5,000 nested arrays overflows
// their stack. Every JSON value from a client is measured here first, without recursion, and
// refused past its limit (core/limits.ts: jsonDepthMax, messageBodyDepthMax).

/**
 * Whether `value` nests objects and arrays more than `depthMax` levels deep. A scalar is level 0,
 * `{}` and `[]` are level 1, `{"a": []}` is level 2. Stops at the first node past the limit.
 */
export function nestsDeeperThan(value: unknown, depthMax: number): boolean {
  if (!isJsonNode(value)) return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > depthMax) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (isJsonNode(child)) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/**
 * An array or a plain object, as JSON.parse makes them. Anything else (an upload's stream, bytes
 * of a Protobuf field) is a leaf: its insides are not JSON.
 */
function isJsonNode(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
