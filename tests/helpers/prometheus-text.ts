/** Parses Prometheus text exposition into `name{labels}` → value, labels in exposition order. */
export function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** `name{a="x",b="y"}` from a name and ordered labels. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  return inner === "" ? name : `${name}{${inner}}`;
}
