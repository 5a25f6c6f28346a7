/**
 * The fire drill, end to end: the lab plays each shipped scenario, an agent probes it, a real Prometheus (one per
 * scenario) scrapes the agent and evaluates the shipped alert rules, one real Alertmanager notifies a webhook receiver
 * in this test.
 *
 * Time: every scenario plays at speed 60 (one story minute per second) and Prometheus loads a drill copy of
 * deploy/prometheus/alerts.yml with every duration divided by 60 (lab/drill/scale-rules.ts): 15m windows → 15 s,
 * for 5m → 5 s, group interval 1m → 1 s. Probes run every 500 ms (30 s of story) — the same number of runs per window
 * as the real rules see at a 30 s interval, so ratios and the "at least 3 failed runs" rule behave alike; Teams chat and
 * provider health run at their kinds' 5-minute floors, read on the story clock (5 s). The five
 * scenarios run at once (one lab + agent process and one Prometheus each, told apart by `location` at the
 * Alertmanager), so the wall time is the longest
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
import { CLI, eventually } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

const SPEED = 60;
const SCENARIOS = ["healthy", "flapping", "throttled", "m365-2026-01-22", "apac-signin"] as const;
/** Stated bound: the mail alert reaches the receiver within 20 story minutes of the first failures (20 s here). */
const MAIL_NOTIFY_BOUND_MINUTES = 20;
/** Stated bound for the suite-wide alert: within 25 story minutes of onset (search stalls from minute 5 after onset). */
const SUITE_WIDE_NOTIFY_BOUND_MINUTES = 25;
const root = join(import.meta.dirname, "../..");

interface Notification {
  at: number;
  status: "firing" | "resolved";
  alertname: string;
  location: string | undefined;
}

const notifications: Notification[] = [];
let receiver: Server;
const prometheus: ChildProcess[] = [];
let alertmanager: ChildProcess;
/** The part of a drill result (lab/drill/observe.ts summarise) the assertions read. */
interface DrillSummary {
  false_alerts: string[];
  missed_alerts: string[];
  alerts: Record<string, { time_to_detect: { scenario_minutes: number } | null }>;
  marks_unix_ms: { onset: number; acknowledged: number; recovered: number };
}
const results = new Map<string, DrillSummary>();
let dir: string;
/** When each scenario's drill (lab and agent) exited. */
const endedAt = new Map<string, number>();
/** Each scenario's own Prometheus. */
const prometheusUrls = new Map<string, string>();

/**
 * The agent config of one scenario's lab: the checks of config/lab.yaml at drill speed, plus chat and provider
 * health. Chat and health run at their kinds' 5-minute floors, which the lab reads on the story clock (5 s here,
 * lab/story-kinds.ts): 3 runs per 15-minute window, as in a real deployment.
 */
function drillConfig(scenario: string, agentPort: number, base: number, refreshTokenFile: string): string {
  const sim = `http://127.0.0.1:${base + 2}`;
  return `agent: { listen: "127.0.0.1:${agentPort}", location: ${scenario}, labels: { provider: microsoft365 }, log_level: warn }
credentials:
  m365:
    type: entra_client_secret
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    client_secret: "\${env:SUITEPROBE_LAB_APP_SECRET}"
    authority: ${sim}
  probe-user:
    type: entra_refresh_token
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    refresh_token_file: ${refreshTokenFile}
    authority: ${sim}
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
  - name: signin
    kind: entra_signin
    entra_signin: { credential: m365 }
  - name: search
    kind: graph_search
    graph_search:
      { credential: m365, graph_url: "${sim}", query: suiteprobe-canary, region: NAM, expect: { min_hits: 1, file_name: suiteprobe-canary.docx } }
  - name: chat
    kind: teams_chat
    interval: 5s
    timeout: 3s
    teams_chat:
      credential: probe-user
      chat_id: "19:suiteprobe-probe@thread.v2"
      graph_url: "${sim}"
      max_delivery: 1s
      poll_interval: 100ms
      create: chat
      create_credential: m365
      create_users: [probe-user-id, peer-user-id]
  - name: health
    kind: m365_service_health
    interval: 5s
    timeout: 3s
    m365_service_health: { credential: m365, graph_url: "${sim}" }
`;
}

/** Kinds the drill configs use, and the user-facing services they cover (the suite-wide alert needs two). */
const DRILL_KINDS = ["smtp", "imap", "entra_signin", "graph_search", "teams_chat", "m365_service_health"];
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
  const amPort = await freePort();
  const agents = await Promise.all(SCENARIOS.map(() => freePort()));
  const promPorts = await Promise.all(SCENARIOS.map(() => freePort()));
  // Below Linux's ephemeral range (32768-60999), where free ports handed out to other tests and outgoing connections
  // live; the lab takes four consecutive ports per scenario from here.
  const base = 20_000 + (process.pid % 500) * 20;

  writeFileSync(
    join(dir, "alerts.yml"),
    scaleRules(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8"), SPEED),
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
  // One Prometheus per scenario: each scenario is a world of its own (its own simulated provider), and one Prometheus
  // over all five would compare them as five locations of one provider (a regional incident, a provider
  // acknowledgement in one lab silencing another).
  SCENARIOS.forEach((scenario, i) => {
    const config = join(dir, `prometheus-${scenario}.yml`);
    writeFileSync(
      config,
      // The external label gives provider-wide alerts (no location of their own) this scenario's location at the
      // shared Alertmanager.
      `global: { scrape_interval: 1s, evaluation_interval: 1s, external_labels: { location: ${scenario} } }
rule_files: [alerts.yml]
alerting: { alertmanagers: [{ static_configs: [{ targets: ["127.0.0.1:${amPort}"] }] }] }
scrape_configs:
  - job_name: suiteprobe
    static_configs: [{ targets: ["127.0.0.1:${agents[i]}"] }]
`,
    );
    prometheusUrls.set(scenario, `http://127.0.0.1:${promPorts[i]}`);
    prometheus.push(
      spawnLogged("prometheus", [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, `tsdb-${scenario}`)}`,
        `--web.listen-address=127.0.0.1:${promPorts[i]}`,
      ]),
    );
  });
  await eventually(async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : undefined), 30_000);
  for (const url of prometheusUrls.values()) {
    await eventually(async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30_000);
    const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: unknown[] } };
    expect(rules.data.groups.length).toBeGreaterThan(0);
  }

  const resultsDir = process.env.SUITEPROBE_DRILL_RESULTS ?? join(dir, "results");
  const runs = SCENARIOS.map((scenario, i) => {
    const config = join(dir, `${scenario}.yaml`);
    // The simulator's seeded refresh token; the agent rotates it in this file as Entra would.
    const refreshTokenFile = join(dir, `${scenario}.refresh-token`);
    writeFileSync(refreshTokenFile, "sim-refresh-0", { mode: 0o600 });
    writeFileSync(config, drillConfig(scenario, agents[i]!, base + i * 4, refreshTokenFile));
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
        prometheusUrls.get(scenario) ?? "",
        "--alertmanager.url",
        `http://127.0.0.1:${amPort}`,
        "--results",
        resultsDir,
        "--location",
        scenario,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, SUITEPROBE_LAB_PASSWORD: "drill", SUITEPROBE_LAB_APP_SECRET: "sim-secret-value" },
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    return new Promise<void>((resolve, reject) =>
      child.once("exit", (code) => {
        endedAt.set(scenario, Date.now());
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
  for (const p of prometheus) p.kill("SIGTERM");
  alertmanager?.kill("SIGTERM");
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

/** Notifications of one scenario while its drill ran (once its agent is gone, SuiteprobeAgentDown would be right). */
const received = (location: string, status?: Notification["status"]) =>
  notifications.filter(
    (n) =>
      n.location === location &&
      n.at <= (endedAt.get(location) ?? Infinity) &&
      (status === undefined || n.status === status),
  );

/**
 * The alerts that reached the receiver for `location`; each one's last notification says resolved, after `after`,
 * and the last resolution comes after `recovered` (ratio rules may resolve during an uneven tail, before the last
 * fault clears).
 */
function firedAndResolved(location: string, after: number, recovered: number): string[] {
  const fired = [...new Set(received(location, "firing").map((n) => n.alertname))];
  for (const name of fired) {
    const last = received(location)
      .filter((n) => n.alertname === name)
      .at(-1);
    expect(last?.status, `${name} resolved at the end`).toBe("resolved");
    expect(last!.at).toBeGreaterThan(after);
  }
  expect(Math.max(...received(location, "resolved").map((n) => n.at))).toBeGreaterThan(recovered);
  return fired;
}

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
    expect(firedAndResolved("m365-2026-01-22", acknowledged, recovered)).toContain("SuiteprobeMailFailing");
    // No alert outside the scenario's expectations, and every expected one fired (chat and provider health after
    // the acknowledgement: their checks run every 5 story minutes).
    expect(r.false_alerts).toEqual([]);
    expect(r.missed_alerts).toEqual([]);
  });

  it("22 January: the suite-wide alert reaches the receiver within the bound and before the acknowledgement", () => {
    // Mail, sign-in, search and chat are probed: four user-facing services, of which mail, search and chat break.
    expect(userFacingCovered.map((s) => s.id)).toEqual(["mail", "signin", "search", "chat"]);
    const { onset, acknowledged } = results.get("m365-2026-01-22")!.marks_unix_ms;
    const suiteWide = received("m365-2026-01-22", "firing").find(
      (n) => n.alertname === "SuiteprobeSuiteWideProviderIncident",
    );
    expect(suiteWide, JSON.stringify(received("m365-2026-01-22"))).toBeDefined();
    const minutesAfterOnset = (((suiteWide!.at - onset) / 1000) * SPEED) / 60;
    console.log(
      `drill m365-2026-01-22: suite-wide alert notified ${minutesAfterOnset.toFixed(1)} story minutes after onset`,
    );
    expect(minutesAfterOnset).toBeLessThanOrEqual(SUITE_WIDE_NOTIFY_BOUND_MINUTES);
    expect(suiteWide!.at).toBeLessThan(acknowledged);
    // Sign-in kept working on 22 January: its alert must not fire.
    expect(received("m365-2026-01-22").filter((n) => n.alertname === "SuiteprobeSigninFailing")).toEqual([]);
  });

  it("apac-signin: the sign-in alert fires, the suite-wide one does not, and nothing else unexpected", () => {
    const r = results.get("apac-signin")!;
    const signin = received("apac-signin", "firing").find((n) => n.alertname === "SuiteprobeSigninFailing");
    expect(signin, JSON.stringify(received("apac-signin"))).toBeDefined();
    expect(signin!.at).toBeLessThan(r.marks_unix_ms.acknowledged);
    expect(
      received("apac-signin", "firing").filter((n) => n.alertname === "SuiteprobeSuiteWideProviderIncident"),
    ).toEqual([]);
    expect(r.false_alerts).toEqual([]);
    expect(r.missed_alerts).toEqual([]);
    expect(firedAndResolved("apac-signin", r.marks_unix_ms.onset, r.marks_unix_ms.recovered)).toContain(
      "SuiteprobeSigninFailing",
    );
  });

  it("throttled: the APIs were really throttled (runs answered 429 and runs held), and none of it counted as failure", async () => {
    // Every series of this drill is younger than 10 minutes; this Prometheus scrapes the throttled lab's agent only.
    const total = async (expr: string): Promise<number> => {
      const url = `${prometheusUrls.get("throttled")}/api/v1/query?query=${encodeURIComponent(`sum(increase(${expr}[10m]))`)}`;
      const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
      return Number(body.data.result[0]?.value[1] ?? 0);
    };
    expect(await total(`probe_runs_total{result="throttled"}`)).toBeGreaterThan(0);
    expect(await total(`suiteprobe_runs_skipped_total{reason="throttled"}`)).toBeGreaterThan(0);
    expect(await total(`probe_runs_total{result="success"}`)).toBeGreaterThan(0);
    expect(await total(`probe_runs_total{kind=~"graph_search|teams_chat|m365_service_health", result="failure"}`)).toBe(
      0,
    );
  });
});
