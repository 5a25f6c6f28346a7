// `suiteprobe lab`: starts the lab, plays a scenario, and shows the agent's view of it (the agent itself is started
// by the composition root, src/cli.ts, and handed in as `LabAgent`). With `drill`, it also watches a Prometheus and
// an Alertmanager and prints time-to-detect and time-to-notify.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Lab } from "./lab.js";
import { byService, changeKey, changeLine, renderScreen, verdict, type LiveRow } from "./live-view.js";
import { LabMetrics, serveLabMetrics } from "./metrics.js";
import {
  alertmanagerActive,
  noteFiring,
  noteNotified,
  prometheusFiring,
  summarise,
  writeDrillResult,
  type DrillRecord,
} from "./drill/observe.js";
import { loadScenarioFile, type Scenario } from "./scenario/schema.js";
import { faultPairs, storyClock, Timeline } from "./scenario/timeline.js";

/** The lab's probe account: the IMAP login config/lab.yaml uses (the password is read from this variable). */
export const LAB_ACCOUNT = { user: "probe@lab.test", passwordEnv: "SUITEPROBE_LAB_PASSWORD", password: "lab" };
/** First of the four consecutive loopback ports: SMTP, IMAP, simulator, lab /metrics (config/lab.yaml uses 10525-10527). */
export const DEFAULT_PORT_BASE = 10525;

/** The running agent as the lab sees it. */
export interface LabAgent {
  rows(): LiveRow[];
  /** Where the agent serves /metrics and its status page. */
  url: string;
  stop(): Promise<void>;
}

/** Options of `suiteprobe lab`. */
export interface LabCommandOptions {
  scenario: string;
  speed?: number;
  portBase: number;
  /** Live view mode: in place on a TTY, plain lines otherwise, none with --quiet. */
  view: "tty" | "lines" | "none";
  /** Stop after the scenario (plus `linger` ms); default: run until a signal. */
  isExitAtEnd: boolean;
  lingerMs: number;
  drill?: { prometheusUrl: string; alertmanagerUrl: string; resultsDir: string; location: string | undefined };
  seed: number;
}

/** Resolves a scenario name (scenarios/NAME.yaml of this package) or a path. */
export function scenarioPath(nameOrPath: string, packageRoot: string): string {
  if (/^[a-z0-9][a-z0-9-]*$/.test(nameOrPath)) return join(packageRoot, "scenarios", `${nameOrPath}.yaml`);
  return nameOrPath;
}

/** Loads a scenario or prints its problems; undefined on problems (exit 2). */
export async function loadScenarioOrReport(path: string, err: (line: string) => void): Promise<Scenario | undefined> {
  if (!existsSync(path)) {
    err(`suiteprobe lab: no scenario ${path}`);
    return undefined;
  }
  const loaded = await loadScenarioFile(path);
  if (loaded.ok) return loaded.scenario;
  for (const line of loaded.errors) err(line);
  err(`suiteprobe lab: ${path}: ${loaded.errors.length} problem(s); nothing was run`);
  return undefined;
}

/** Runs the lab until `stop` aborts (or the scenario ends with isExitAtEnd); returns the exit code. */
export async function runLab(
  scenario: Scenario,
  options: LabCommandOptions,
  io: { out: (text: string) => void; startAgent?: () => Promise<LabAgent>; stop: AbortSignal },
): Promise<number> {
  const host = "127.0.0.1";
  const base = options.portBase;
  const lab = await Lab.start({
    host,
    smtpPort: base,
    imapPort: base + 1,
    simPort: base + 2,
    seed: options.seed,
    account: { user: LAB_ACCOUNT.user, password: process.env[LAB_ACCOUNT.passwordEnv] ?? LAB_ACCOUNT.password },
  });
  const metrics = new LabMetrics();
  metrics.declare(faultPairs(scenario));
  const speed = options.speed ?? scenario.speed;
  const lines: string[] = [];
  const timeline = new Timeline(scenario, lab, speed, {
    onStep: (step, index) => {
      metrics.update(lab.faults());
      metrics.step.set(index);
      if (options.view === "lines") io.out(`[${timeline.clockAt()}] scenario: ${step.note}`);
      lines.push(step.note);
    },
  });
  const server = await serveLabMetrics(metrics, host, base + 3, () => ({
    scenario: scenario.name,
    speed,
    clock: timeline.clockAt(),
    step: timeline.stepIndex,
    faults: lab.faults(),
  }));
  let agent: LabAgent | undefined;
  try {
    agent = await io.startAgent?.();
    timeline.start();
    io.out(
      `suiteprobe lab: scenario ${scenario.name} at speed ${speed} (${Math.round(scenario.duration / speed / 1000)} s); ` +
        `SMTP ${host}:${base}, IMAP ${host}:${base + 1}, simulator http://${host}:${base + 2}, ` +
        `lab metrics http://${host}:${base + 3}/metrics${agent === undefined ? "" : `, agent ${agent.url}`}\n`,
    );
    const record: DrillRecord = {
      scenario: scenario.name,
      speed,
      marks: {},
      alerts: new Map(),
      expected: scenario.expect_alerts,
    };
    const seen = new Map<string, string>();
    const endAt = timeline.endsAt + options.lingerMs;
    while (!io.stop.aborted && !(options.isExitAtEnd && Date.now() >= endAt)) {
      metrics.offset.set(timeline.scenarioMs() / 1000);
      const rows = agent?.rows() ?? [];
      const clockAt = (ms: number): string => storyClock(scenario.clock, (ms - timeline.startedAt) * speed);
      if (options.view === "tty") {
        const screen = renderScreen({
          title: `suiteprobe lab — ${scenario.name} ×${speed}`,
          clock: timeline.clockAt(),
          step: lines.at(-1) ?? "",
          rows,
          clockAt,
          footer: `status page ${agent?.url ?? "(no agent)"} · lab metrics http://${host}:${base + 3}/metrics · Ctrl-C stops`,
        });
        io.out(`\x1b[H\x1b[2J${screen}\n`);
      } else if (options.view === "lines") {
        for (const row of rows) {
          const key = changeKey(row);
          if (seen.get(row.check) !== key) io.out(changeLine(timeline.clockAt(), row));
          seen.set(row.check, key);
        }
        for (const [service, group] of byService(rows)) {
          const line = verdict(service, group, clockAt);
          // Printed when it changes in substance; the "since" alone moving does not repeat it.
          if (seen.get(`service:${service}`) !== line.replace(/ since .*$/, ""))
            io.out(`[${timeline.clockAt()}] ${line}`);
          seen.set(`service:${service}`, line.replace(/ since .*$/, ""));
        }
      }
      if (options.drill !== undefined) await observeDrill(record, timeline, options.drill, io.out);
      await sleep(options.view === "tty" ? 500 : 1000, undefined, { signal: io.stop }).catch(() => undefined);
    }
    if (options.drill !== undefined) {
      const summary = summarise(record, {
        prometheus: options.drill.prometheusUrl,
        measured_at: new Date().toISOString(),
      });
      const path = await writeDrillResult(options.drill.resultsDir, summary);
      io.out(`${JSON.stringify(summary, null, 2)}\nsuiteprobe lab: drill result written to ${path}`);
      return (summary.false_alerts as string[]).length === 0 && (summary.missed_alerts as string[]).length === 0
        ? 0
        : 1;
    }
    return 0;
  } finally {
    timeline.stop();
    await agent?.stop();
    await Promise.all([server.close(), lab.close()]);
  }
}

async function observeDrill(
  record: DrillRecord,
  timeline: Timeline,
  drill: NonNullable<LabCommandOptions["drill"]>,
  out: (text: string) => void,
): Promise<void> {
  for (const mark of ["onset", "acknowledged", "recovered"] as const) {
    const at = record.marks[mark] ?? timeline.markTime(mark);
    if (at !== undefined) record.marks[mark] = at;
  }
  const filter = drill.location === undefined ? {} : { location: drill.location };
  const now = Date.now();
  try {
    const before = new Set([...record.alerts].filter(([, t]) => t.firstFiring !== undefined).map(([n]) => n));
    noteFiring(record, await prometheusFiring(drill.prometheusUrl, filter), now);
    for (const name of await alertmanagerActive(drill.alertmanagerUrl, filter)) noteNotified(record, name, now);
    for (const [name, t] of record.alerts) {
      if (!before.has(name) && t.firstFiring !== undefined) out(`[${timeline.clockAt()}] drill: ${name} firing`);
    }
  } catch (error) {
    out(`[${timeline.clockAt()}] drill: cannot query Prometheus/Alertmanager (${(error as Error).message})`);
  }
}
