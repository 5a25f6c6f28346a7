/**
 * The fire drill, end to end: the lab plays each shipped scenario, an agent probes it, a real Prometheus scrapes the
 * agents and evaluates the shipped alert rules, a real Alertmanager notifies a webhook receiver in this test.
 *
 * Time: every scenario plays at speed 60 (one story minute per second) and Prometheus loads a drill copy of
 * deploy/prometheus/alerts.yml with every duration divided by 60 (lab/drill/scale-rules.ts): 15m windows → 15 s,
 * for 5m → 5 s, group interval 1m → 1 s. Probes run every 500 ms (30 s of story) — the same number of runs per window
 * as the real rules see at a 30 s interval, so ratios and the "at least 3 failed runs" rule behave alike. The five
 * scenarios run at once (one lab + agent process each, told apart by `location`), so the wall time is the longest
 * scenario (22 January: 187 story minutes + 15 to resolve ≈ 3.4 minutes).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICES } from "../../deploy/services.js";
import { scaleRules } from "../../lab/drill/scale-rules.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { CLI, eventually } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

const SPEED = 60;
const SCENARIOS = ["healthy", "flapping", "throttled", "m365-2026-01-22", "apac-signin"] as const;
/** Stated bound: the mail alert reaches the receiver within 20 story minutes of the first failures (20 s here). */
const MAIL_NOTIFY_BOUND_MINUTES = 20;
const root = join(import.meta.dirname, "../..");

interface Notification {
  at: number;
  status: "firing" | "resolved";
  alertname: string;
  location: string | undefined;
}

const notifications: Notification[] = [];
let receiver: Server;
let prometheus: ChildProcess;
let alertmanager: ChildProcess;
/** The part of a drill result (lab/drill/observe.ts summarise) the assertions read. */
interface DrillSummary {
  false_alerts: string[];
  alerts: Record<string, { time_to_detect: { scenario_minutes: number } | null }>;
  marks_unix_ms: { onset: number; acknowledged: number; recovered: number };
}
const results = new Map<string, DrillSummary>();
let dir: string;

/** The agent config of one scenario's lab: the mail checks of config/lab.yaml at drill speed. */
function drillConfig(scenario: string, agentPort: number, base: number): string {
  return `agent: { listen: "127.0.0.1:${agentPort}", location: ${scenario}, labels: { provider: microsoft365 }, log_level: warn }
defaults: { interval: 500ms, timeout: 400ms }
checks:
  - name: submission
    kind: smtp
    target: 127.0.0.1:${base}
    smtp: { tls: none, starttls_required: false, mail_from: probe@lab.test, rcpt_to: probe@lab.test }
  - name: mailbox
    kind: imap
    target: 127.0.0.1:${base + 1}
    imap: { tls: none, allow_plaintext_auth: true, auth: { mechanism: login, user: probe@lab.test, password: "\${env:SUITEPROBE_LAB_PASSWORD}" } }
`;
}

/** Kinds the drill configs use, and the user-facing services they cover (the suite-wide alert needs two). */
const DRILL_KINDS = ["smtp", "imap"];
const userFacingCovered = SERVICES.filter((s) => s.isUserFacing && s.kinds.some((k) => DRILL_KINDS.includes(k)));

function spawnLogged(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.once("exit", (code) => {
    if (code !== 0 && code !== null) console.error(`${cmd} exited ${code}: ${err}`);
  });
  return child;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "suiteprobe-drill-"));
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const payload = JSON.parse(body) as {
        alerts: { status: "firing" | "resolved"; labels: Record<string, string> }[];
      };
      for (const a of payload.alerts) {
        notifications.push({
          at: Date.now(),
          status: a.status,
          alertname: a.labels.alertname ?? "",
          location: a.labels.location,
        });
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;
  const [promPort, amPort] = [await freePort(), await freePort()];
  const agents = await Promise.all(SCENARIOS.map(() => freePort()));
  // Below Linux's ephemeral range (32768-60999), where free ports handed out to other tests and outgoing connections
  // live; the lab takes four consecutive ports per scenario from here.
  const base = 20_000 + (process.pid % 500) * 20;

  writeFileSync(
    join(dir, "alerts.yml"),
    scaleRules(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8"), SPEED),
  );
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [alerts.yml]
alerting: { alertmanagers: [{ static_configs: [{ targets: ["127.0.0.1:${amPort}"] }] }] }
scrape_configs:
  - job_name: suiteprobe
    static_configs: [{ targets: [${agents.map((p) => `"127.0.0.1:${p}"`).join(", ")}] }]
`,
  );
  writeFileSync(
    join(dir, "alertmanager.yml"),
    `route: { receiver: test, group_by: [alertname, location, check], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }
receivers:
  - name: test
    webhook_configs: [{ url: "http://127.0.0.1:${receiverPort}/", send_resolved: true }]
`,
  );
  alertmanager = spawnLogged("prometheus-alertmanager", [
    `--config.file=${join(dir, "alertmanager.yml")}`,
    `--storage.path=${join(dir, "am")}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    "--cluster.listen-address=",
  ]);
  prometheus = spawnLogged("prometheus", [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  await eventually(async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : undefined), 30_000);
  await eventually(async () => ((await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok ? true : undefined), 30_000);
  const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as {
    data: { groups: unknown[] };
  };
  expect(rules.data.groups.length).toBeGreaterThan(0);

  const resultsDir = process.env.SUITEPROBE_DRILL_RESULTS ?? join(dir, "results");
  const runs = SCENARIOS.map((scenario, i) => {
    const config = join(dir, `${scenario}.yaml`);
    writeFileSync(config, drillConfig(scenario, agents[i]!, base + i * 4));
    const child = spawn(
      process.execPath,
      [
        CLI,
        "lab",
        "--drill",
        scenario,
        "--speed",
        String(SPEED),
        "--config",
        config,
        "--port-base",
        String(base + i * 4),
        "--prometheus.url",
        `http://127.0.0.1:${promPort}`,
        "--alertmanager.url",
        `http://127.0.0.1:${amPort}`,
        "--results",
        resultsDir,
        "--location",
        scenario,
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SUITEPROBE_LAB_PASSWORD: "drill" } },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    return new Promise<void>((resolve, reject) =>
      child.once("exit", (code) => {
        if (code !== 0 && code !== 1)
          return reject(new Error(`drill ${scenario} exited ${code}: ${output.slice(-3000)}`));
        results.set(
          scenario,
          JSON.parse(readFileSync(join(resultsDir, `drill-${scenario}.json`), "utf8")) as DrillSummary,
        );
        resolve();
      }),
    );
  });
  await Promise.all(runs);
}, 330_000);

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  alertmanager?.kill("SIGTERM");
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

const received = (location: string, status?: Notification["status"]) =>
  notifications.filter((n) => n.location === location && (status === undefined || n.status === status));

describe("fire drill: lab → agent → Prometheus (shipped rules, scaled) → Alertmanager → receiver", () => {
  it.each(["healthy", "flapping", "throttled"])("%s: nothing fires and nothing is notified", (scenario) => {
    expect(results.get(scenario)?.false_alerts).toEqual([]);
    expect(Object.keys(results.get(scenario)?.alerts ?? {})).toEqual([]);
    expect(received(scenario)).toEqual([]);
  });

  it("22 January: the mail alert reaches the receiver within the bound after onset and before the acknowledgement", () => {
    const r = results.get("m365-2026-01-22")!;
    const { onset, acknowledged, recovered } = r.marks_unix_ms;
    const mail = received("m365-2026-01-22", "firing").find((n) => n.alertname === "SuiteprobeMailFailing");
    expect(mail, JSON.stringify(notifications)).toBeDefined();
    const minutesAfterOnset = (((mail!.at - onset) / 1000) * SPEED) / 60;
    console.log(
      `drill m365-2026-01-22: SuiteprobeMailFailing notified ${minutesAfterOnset.toFixed(1)} story minutes after onset`,
    );
    expect(minutesAfterOnset).toBeLessThanOrEqual(MAIL_NOTIFY_BOUND_MINUTES);
    expect(mail!.at).toBeLessThan(acknowledged);
    expect(r.alerts.SuiteprobeMailFailing?.time_to_detect?.scenario_minutes).toBeLessThanOrEqual(
      MAIL_NOTIFY_BOUND_MINUTES,
    );
    // Everything that fired is resolved by the end: the last notification of each alert says resolved, after the
    // first failures stopped rising (the ratio rules may resolve during the uneven tail, before the last fault clears).
    const fired = new Set(received("m365-2026-01-22", "firing").map((n) => n.alertname));
    expect([...fired]).toContain("SuiteprobeMailFailing");
    for (const name of fired) {
      const last = received("m365-2026-01-22")
        .filter((n) => n.alertname === name)
        .at(-1);
      expect(last?.status, `${name} resolved at the end`).toBe("resolved");
      expect(last!.at).toBeGreaterThan(acknowledged);
    }
    expect(Math.max(...received("m365-2026-01-22", "resolved").map((n) => n.at))).toBeGreaterThan(recovered);
    // No alert outside the scenario's expectations.
    expect(r.false_alerts).toEqual([]);
  });

  it("22 January: the suite-wide alert fires exactly when the drill probes two or more user-facing services", () => {
    const suiteWide = received("m365-2026-01-22", "firing").filter(
      (n) => n.alertname === "SuiteprobeSuiteWideProviderIncident",
    );
    // With only the mail kinds registered the drill covers one service (mail): one service failing is not suite-wide.
    // When the HTTP kinds land and the drill config gains search/chat checks, this expects the alert, before the ack.
    if (userFacingCovered.length >= 2) {
      expect(suiteWide.length).toBeGreaterThan(0);
      expect(suiteWide[0]!.at).toBeLessThan(results.get("m365-2026-01-22")!.marks_unix_ms.acknowledged);
    } else {
      expect(userFacingCovered.map((s) => s.id)).toEqual(["mail"]);
      expect(suiteWide).toEqual([]);
    }
  });

  it("apac-signin: no suite-wide alert, no false alert; the sign-in alert fires once the sign-in kind is registered", () => {
    const r = results.get("apac-signin")!;
    expect(
      received("apac-signin", "firing").filter((n) => n.alertname === "SuiteprobeSuiteWideProviderIncident"),
    ).toEqual([]);
    expect(r.false_alerts).toEqual([]);
    const isSigninRegistered = PROBE_KINDS.some((k) => k.id === "entra_signin");
    const signin = received("apac-signin", "firing").filter((n) => n.alertname === "SuiteprobeSigninFailing");
    // The drill config has no entra_signin check until that kind exists; then this must see the alert.
    expect(signin.length > 0).toBe(isSigninRegistered && DRILL_KINDS.includes("entra_signin"));
  });
});
