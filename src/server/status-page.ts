import type { CheckStatus, ReloadFailure } from "../agent.js";
import { escapeControl } from "../core/control-chars.js";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** HTML-escapes text (targets and messages come from config and from peers); control characters become visible
 * escapes so that a page saved or copied into a terminal carries none. */
export function escapeHtml(text: string): string {
  return escapeControl(text).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function time(date: Date | undefined): string {
  return date === undefined ? "—" : date.toISOString().replace(".000Z", "Z");
}

/** "4m 30s", "2h 5m", "3d 4h": how long a check has been failing, two units at most. */
export function span(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: [number, string][] = [
    [Math.floor(seconds / 86400), "d"],
    [Math.floor(seconds / 3600) % 24, "h"],
    [Math.floor(seconds / 60) % 60, "m"],
    [seconds % 60, "s"],
  ];
  const first = units.findIndex(([n]) => n > 0);
  if (first < 0) return "0s";
  return units
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(" ");
}

const HEADS = [
  "check",
  "kind",
  "target",
  "result",
  "class",
  "code",
  "phase",
  "retryable",
  "side",
  "duration",
  "last run",
  "last success",
  "failing since",
  "next run",
  "message",
] as const;

function row(status: CheckStatus, now: Date): string {
  const last = status.last;
  const result = last === undefined ? "pending" : last.status;
  const failure = last?.failure;
  const since = status.failingSince;
  const cells = [
    status.check.name,
    status.check.kind.id,
    status.check.target.label,
    result,
    failure?.class ?? "",
    failure?.code ?? "",
    failure?.phase ?? "",
    failure === undefined ? "" : String(failure.retryable),
    failure?.side ?? "",
    last === undefined ? "" : `${(last.durationSeconds * 1000).toFixed(0)} ms`,
    time(last?.endedAt),
    time(status.lastSuccessAt),
    since === undefined ? "" : `${time(since)} (${span(now.getTime() - since.getTime())})`,
    time(status.nextRunAt),
    failure?.message ?? "",
  ];
  return `<tr class="${result}">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
}

/** Rows grouped under one heading per kind and location, kinds in first-seen order, checks in config order. */
function groups(statuses: readonly CheckStatus[], location: string, now: Date): string {
  const byKind = new Map<string, CheckStatus[]>();
  for (const status of statuses) {
    byKind.set(status.check.kind.id, [...(byKind.get(status.check.kind.id) ?? []), status]);
  }
  return [...byKind]
    .map(
      ([kind, rows]) =>
        `<tr class="group"><th colspan="${HEADS.length}">${escapeHtml(`${kind} · ${location}`)}</th></tr>\n` +
        rows.map((status) => row(status, now)).join("\n"),
    )
    .join("\n");
}

/** The small status page at `/`: checks grouped by kind and location, each with its last result, class, code,
 * retryable, side, duration, last success and how long it has been failing; a refused reload on top. */
export function renderStatusPage(
  statuses: readonly CheckStatus[],
  meta: { version: string; location: string; now?: Date; reloadFailure?: ReloadFailure | undefined },
): string {
  const now = meta.now ?? new Date();
  const alert =
    meta.reloadFailure === undefined
      ? ""
      : `<p class="alert">The last config reload failed at ${time(meta.reloadFailure.at)} with ` +
        `${meta.reloadFailure.problems} problem(s); the previous config keeps running. See the agent log.</p>\n`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>suiteprobe</title>
<meta http-equiv="refresh" content="15">
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td{white-space:nowrap}td:last-child{white-space:normal;min-width:20rem}
tr.group th{background:#f3f3f3;padding-top:.8rem}
.alert{background:#fee;border:1px solid #b00;padding:.5rem;color:#b00}
tr.success td:nth-child(4){color:#080}tr.failure td:nth-child(4){color:#b00;font-weight:bold}
</style></head><body>
<h1>suiteprobe</h1>
${alert}<p>location <b>${escapeHtml(meta.location)}</b> · version ${escapeHtml(meta.version)} ·
<a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
<table><thead><tr>${HEADS.map((h) => `<th>${h}</th>`).join("")}</tr></thead>
<tbody>
${groups(statuses, meta.location, now)}
</tbody></table>
</body></html>
`;
}
