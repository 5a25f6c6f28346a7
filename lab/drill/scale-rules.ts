// A drill copy of Prometheus rules with every duration divided by the scenario speed, so a drill at speed N sees
// the same rules on the same story clock: windows, `for`, `keep_firing_for` and group intervals all shrink alike.
import { parseDocument, isMap, isScalar, visit } from "yaml";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_FIELDS = new Set(["interval", "for", "keep_firing_for"]);

/** `15m` at speed 60 → `15000ms`; never below 1 ms. */
export function scaleDuration(text: string, speed: number): string {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (match === null) throw new Error(`not a simple Prometheus duration: ${text}`);
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? "s"] ?? 1);
  return `${Math.max(1, Math.round(ms / speed))}ms`;
}

/** The rules file `yamlText` with its durations (fields and `[range]`/`[range:step]` selectors) divided by `speed`. */
export function scaleRules(yamlText: string, speed: number): string {
  const doc = parseDocument(yamlText);
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) return;
      const key = String(pair.key.value);
      if (DURATION_FIELDS.has(key)) pair.value.value = scaleDuration(String(pair.value.value), speed);
      if (key === "expr") {
        pair.value.value = String(pair.value.value).replace(
          /\[(\d+(?:ms|s|m|h|d))(?::(\d+(?:ms|s|m|h|d)))?\]/g,
          (_m, range: string, step?: string) =>
            step === undefined
              ? `[${scaleDuration(range, speed)}]`
              : `[${scaleDuration(range, speed)}:${scaleDuration(step, speed)}]`,
        );
      }
    },
  });
  if (!isMap(doc.contents)) throw new Error("not a Prometheus rules file");
  doc.commentBefore = ` Drill copy: every duration of the shipped rules divided by ${speed} (suiteprobe lab drill).`;
  return doc.toString({ lineWidth: 0 });
}
