import type { CheckStatus } from "../agent.js";
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

function row(status: CheckStatus): string {
  const last = status.last;
  const result = last === undefined ? "pending" : last.status;
  const cells = [
    status.check.name,
    status.check.kind.id,
    status.check.target.label,
    result,
    last?.failure?.class ?? "",
    last?.failure?.code ?? "",
    last?.failure?.phase ?? "",
    last === undefined ? "" : `${(last.durationSeconds * 1000).toFixed(0)} ms`,
    time(last?.endedAt),
    time(status.lastSuccessAt),
    time(status.nextRunAt),
    last?.failure?.message ?? "",
  ];
  return `<tr class="${result}">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
}

/** The small status page at `/`: each check, its last result, class, code, duration, last success. */
export function renderStatusPage(
  statuses: readonly CheckStatus[],
  meta: { version: string; location: string },
): string {
  const heads = [
    "check",
    "kind",
    "target",
    "result",
    "class",
    "code",
    "phase",
    "duration",
    "last run",
    "last success",
    "next run",
    "message",
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>suiteprobe</title>
<meta http-equiv="refresh" content="15">
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
tr.success td:nth-child(4){color:#080}tr.failure td:nth-child(4){color:#b00;font-weight:bold}
</style></head><body>
<h1>suiteprobe</h1>
<p>location <b>${escapeHtml(meta.location)}</b> · version ${escapeHtml(meta.version)} ·
<a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
<table><thead><tr>${heads.map((h) => `<th>${h}</th>`).join("")}</tr></thead>
<tbody>
${statuses.map(row).join("\n")}
</tbody></table>
</body></html>
`;
}
