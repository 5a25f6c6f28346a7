/** Renders rows of flat objects as a Markdown table. */
export function table(rows: readonly object[]): string {
  const first = rows[0];
  if (first === undefined) return "(no rows)\n";
  const keys = Object.keys(first);
  const cell = (v: unknown) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
  return [
    `| ${keys.join(" | ")} |`,
    `| ${keys.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${keys.map((k) => cell((r as Record<string, unknown>)[k])).join(" | ")} |`),
  ]
    .join("\n")
    .concat("\n");
}
