/**
 * A small JSON path subset for body assertions: `$`, `.name`, `["name"]`, `[3]`, `[*]` and `.*`. Enough to say
 * "status is ok" or "value has at least one entry"; filters and recursive descent are left out on purpose (their cost
 * grows with the document, and a body is already capped).
 */

/** One step of a parsed path. */
type Step = { type: "key"; key: string } | { type: "index"; index: number } | { type: "all" };

const MAX_STEPS = 32;
const MAX_MATCHES = 10_000;

/** Parses a path; returns an error message instead of throwing. */
export function parseJsonPath(path: string): Step[] | { error: string } {
  if (!path.startsWith("$")) return { error: 'must start with "$"' };
  const steps: Step[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    if (steps.length >= MAX_STEPS) return { error: `has more than ${MAX_STEPS} steps` };
    const match =
      /^\.([A-Za-z_$@][\w$@-]*)/.exec(rest) ??
      /^\.(\*)/.exec(rest) ??
      /^\[(\*)\]/.exec(rest) ??
      /^\[(\d{1,9})\]/.exec(rest) ??
      /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest) ??
      /^\['((?:[^'\\]|\\.)*)'\]/.exec(rest);
    if (match === null) return { error: `cannot read "${rest.slice(0, 20)}"` };
    const [whole, part = ""] = match;
    if (part === "*") steps.push({ type: "all" });
    else if (whole.startsWith("[") && /^\d+$/.test(part)) steps.push({ type: "index", index: Number(part) });
    else steps.push({ type: "key", key: part.replace(/\\(.)/g, "$1") });
    rest = rest.slice(whole.length);
  }
  return steps;
}

/** The values `steps` select in `document` (a wildcard fans out; at most 10,000). */
export function selectJsonPath(document: unknown, steps: readonly Step[]): unknown[] {
  let current: unknown[] = [document];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== "object") continue;
      if (step.type === "all") {
        // A loop, not push(...items): a capped body can still hold an array too long for one call's arguments.
        const items: unknown[] = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
        for (const item of items) if (next.length <= MAX_MATCHES) next.push(item);
      } else if (step.type === "index") {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if (!Array.isArray(value) && Object.hasOwn(value, step.key)) {
        next.push((value as Record<string, unknown>)[step.key]);
      }
      if (next.length > MAX_MATCHES) break;
    }
    current = next.slice(0, MAX_MATCHES);
  }
  return current;
}
