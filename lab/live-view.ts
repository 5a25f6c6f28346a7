// The lab's live view in the terminal: per service a verdict, per check its state, class, code and latency.
// Refreshed in place on a TTY; plain log lines (one per change) otherwise. Fed with plain rows by the composition
// root (src/cli.ts), so the lab knows nothing of the agent.
import { escapeControl } from "../src/core/control-chars.js";

/** One check as the live view shows it. */
export interface LiveRow {
  check: string;
  kind: string;
  state: "pending" | "ok" | "failing";
  class?: string | undefined;
  code?: string | undefined;
  /** The run's facts under their `once` keys; an SMTP reply code is shown before the enhanced code ("451 4.3.2"). */
  facts?: Readonly<Record<string, number>> | undefined;
  side?: string | undefined;
  retryable?: boolean | undefined;
  phase?: string | undefined;
  latencyMs?: number | undefined;
  /** Real time (ms) the current streak of failures began. */
  failingSince?: number | undefined;
}

// Display grouping only; deploy/services.ts is the source for alerts (tests/unit/lab-live-view.test.ts keeps them equal).
/** Which service a kind belongs to, for the verdict lines. */
export const LIVE_SERVICE_OF_KIND: Readonly<Record<string, string>> = {
  smtp: "mail",
  imap: "mail",
  mail_roundtrip: "mail",
  entra_signin: "signin",
  graph_search: "search",
  drive_search: "search",
  teams_chat: "chat",
  slack_chat: "chat",
  m365_service_health: "provider_health",
  slack_status: "provider_health",
  http: "web",
};

/** "451 4.3.2", "4.3.2", "503" or "" for a row. */
export function codeText(row: LiveRow): string {
  if (row.code === undefined || row.code === "none") return "";
  const reply = row.facts?.["smtp_reply_code"];
  if (reply !== undefined && reply !== 0 && String(reply) !== row.code) return `${reply} ${row.code}`;
  return row.code;
}

/** The verdict of one service, e.g. "mail: provider-side, transient (451 4.3.2) since 14:02". */
export function verdict(service: string, rows: readonly LiveRow[], clock: (ms: number) => string): string {
  const failing = rows.filter((r) => r.state === "failing");
  if (rows.every((r) => r.state === "pending")) return `${service}: waiting for the first runs`;
  if (failing.length === 0) return `${service}: ok (${rows.length} check${rows.length === 1 ? "" : "s"})`;
  const sides = count(failing.map((r) => r.side ?? "unknown"));
  const side = sides[0]?.[1] !== undefined && sides[0][1] * 2 > failing.length ? sides[0][0] : "mixed";
  const isTransient = failing.every((r) => r.retryable === true);
  const codes = count(failing.map(codeText).filter((c) => c !== "")).map(([c]) => c);
  const since = Math.min(...failing.map((r) => r.failingSince ?? Date.now()));
  const scope = failing.length === rows.length ? "" : `, ${failing.length} of ${rows.length} checks`;
  return (
    `${service}: ${side}-side, ${isTransient ? "transient" : "persistent"}` +
    `${codes.length > 0 ? ` (${codes.slice(0, 3).join(", ")})` : ""}${scope} since ${clock(since)}`
  );
}

function count(values: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** Rows grouped by service (display grouping), in first-seen order. */
export function byService(rows: readonly LiveRow[]): Map<string, LiveRow[]> {
  const groups = new Map<string, LiveRow[]>();
  for (const row of rows) {
    const service = LIVE_SERVICE_OF_KIND[row.kind] ?? row.kind;
    groups.set(service, [...(groups.get(service) ?? []), row]);
  }
  return groups;
}

/** The whole screen: header, the scenario step, one verdict per service and one line per check. */
export function renderScreen(input: {
  title: string;
  clock: string;
  step: string;
  rows: readonly LiveRow[];
  clockAt: (ms: number) => string;
  footer: string;
}): string {
  const lines = [`${input.title}   story time ${input.clock}`, `scenario: ${input.step}`, ""];
  for (const [service, rows] of byService(input.rows)) {
    lines.push(verdict(service, rows, input.clockAt));
    for (const r of rows) {
      const latency = r.latencyMs === undefined ? "" : `${Math.round(r.latencyMs)} ms`;
      lines.push(
        `  ${pad(r.check, 24)} ${pad(r.kind, 15)} ${pad(r.state, 8)} ${pad(r.class ?? "", 12)} ` +
          `${pad(codeText(r), 10)} ${pad(r.phase ?? "", 14)} ${latency}`,
      );
    }
  }
  lines.push("", input.footer);
  return lines.map((l) => escapeControl(l)).join("\n");
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** A plain log line for a check whose state, class or code changed (non-TTY output). */
export function changeLine(clock: string, row: LiveRow): string {
  const what =
    row.state === "failing"
      ? `failing ${row.class ?? "unknown"} ${codeText(row)} at ${row.phase ?? "?"} (${row.side ?? "unknown"}-side, ${row.retryable === true ? "transient" : "persistent"})`
      : row.state;
  return escapeControl(`[${clock}] ${row.check} (${row.kind}): ${what.replace(/\s+/g, " ").trim()}`);
}

/** Key of what a plain log line reports, to print only changes. */
export function changeKey(row: LiveRow): string {
  return `${row.state}/${row.class ?? ""}/${codeText(row)}`;
}
