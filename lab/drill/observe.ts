// Fire drill bookkeeping: when each alert first fired in Prometheus, reached Alertmanager (or a receiver), resolved;
// compared with the scenario's marks, and which alerts were false (not expected by the scenario).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What was seen of one alert name (times in real Unix ms). */
export interface AlertTimes {
  firstFiring?: number;
  firstNotified?: number;
  lastFiring?: number;
  resolved?: number;
}

/** The record of one drill run of one scenario. */
export interface DrillRecord {
  scenario: string;
  speed: number;
  marks: { onset?: number; acknowledged?: number; recovered?: number };
  alerts: Map<string, AlertTimes>;
  expected: readonly string[];
}

/** Notes that `names` are firing (Prometheus) at `now`; alerts no longer listed are noted resolved. */
export function noteFiring(record: DrillRecord, names: readonly string[], now: number): void {
  for (const name of names) {
    const times = record.alerts.get(name) ?? {};
    times.firstFiring ??= now;
    times.lastFiring = now;
    delete times.resolved;
    record.alerts.set(name, times);
  }
  for (const [name, times] of record.alerts) {
    if (!names.includes(name) && times.firstFiring !== undefined && times.resolved === undefined) times.resolved = now;
  }
}

/** Notes that a notification (or Alertmanager's active list) carried `name` at `now`. */
export function noteNotified(record: DrillRecord, name: string, now: number): void {
  const times = record.alerts.get(name) ?? {};
  times.firstNotified ??= now;
  record.alerts.set(name, times);
}

/** Seconds, rounded to 0.1, of real time and of scenario time (× speed). */
function span(from: number | undefined, to: number | undefined, speed: number) {
  if (from === undefined || to === undefined) return null;
  const seconds = (to - from) / 1000;
  return { real_seconds: Math.round(seconds * 10) / 10, scenario_minutes: Math.round((seconds * speed) / 6) / 10 };
}

/** The JSON summary: time-to-detect and time-to-notify per alert after onset, resolution after recovery, false alerts. */
export function summarise(record: DrillRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { onset, acknowledged, recovered } = record.marks;
  const alerts = Object.fromEntries(
    [...record.alerts].map(([name, t]) => [
      name,
      {
        expected: record.expected.includes(name),
        time_to_detect: span(onset, t.firstFiring, record.speed),
        time_to_notify: span(onset, t.firstNotified, record.speed),
        before_acknowledgement:
          acknowledged === undefined || t.firstNotified === undefined ? null : t.firstNotified < acknowledged,
        resolved_after_recovery: span(recovered, t.resolved, record.speed),
      },
    ]),
  );
  return {
    scenario: record.scenario,
    speed: record.speed,
    marks_unix_ms: record.marks,
    acknowledgement_after_onset: span(onset, acknowledged, record.speed),
    alerts,
    false_alerts: [...record.alerts.keys()].filter((n) => !record.expected.includes(n)),
    missed_alerts: record.expected.filter((n) => record.alerts.get(n)?.firstFiring === undefined),
    ...extra,
  };
}

/** Writes the summary as `drill-<scenario>.json` under `dir`; returns the path. */
export async function writeDrillResult(dir: string, summary: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `drill-${String(summary.scenario)}.json`);
  await writeFile(path, `${JSON.stringify(summary, null, 2)}\n`);
  return path;
}

/** Alert names firing in Prometheus (`/api/v1/alerts`), optionally only those whose labels match `filter`. */
export async function prometheusFiring(baseUrl: string, filter: Record<string, string> = {}): Promise<string[]> {
  const body = (await (await fetch(new URL("/api/v1/alerts", baseUrl))).json()) as {
    data?: { alerts?: { state: string; labels: Record<string, string> }[] };
  };
  return unique(
    (body.data?.alerts ?? [])
      .filter((a) => a.state === "firing" && matches(a.labels, filter))
      .map((a) => a.labels.alertname ?? ""),
  );
}

/** Alert names active in Alertmanager (`/api/v2/alerts`), optionally filtered by labels. */
export async function alertmanagerActive(baseUrl: string, filter: Record<string, string> = {}): Promise<string[]> {
  const alerts = (await (
    await fetch(new URL("/api/v2/alerts?active=true&silenced=false&inhibited=false", baseUrl))
  ).json()) as {
    labels: Record<string, string>;
    status?: { state?: string };
  }[];
  return unique(
    alerts
      .filter((a) => a.status?.state === "active" && matches(a.labels, filter))
      .map((a) => a.labels.alertname ?? ""),
  );
}

/** An alert without a filtered label counts: provider-wide alerts (SuiteprobeProviderIncidentOpen aggregates
 * `location` away) belong to whichever drill is running. */
function matches(labels: Record<string, string>, filter: Record<string, string>): boolean {
  return Object.entries(filter).every(([k, v]) => labels[k] === undefined || labels[k] === v);
}

function unique(names: string[]): string[] {
  return [...new Set(names.filter((n) => n !== ""))];
}
