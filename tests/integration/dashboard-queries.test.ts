import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERTS } from "../../deploy/alerts.js";
import { startSimulator, type Simulator } from "../../lab/sim/index.js";
import { dashboardQueries } from "../../deploy/dashboard.js";
import { grafanaRulesFile } from "../../deploy/outputs/grafana-alerting.js";
import { ENGINE_METRICS, KIND_METRICS, SERVICES } from "../../deploy/services.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { eventually, startCli, writeConfig } from "../helpers/cli.js";
import { testCerts } from "../helpers/certs.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { SIM_APP, SIM_TENANT } from "../helpers/sim.js";
import { startMaildirSmtpServer, type MaildirSmtpServer } from "../helpers/maildir-smtp-server.js";
import { freePort } from "../helpers/net.js";
import { nameStartingSoon } from "../helpers/schedule.js";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-test-server.js";

const REGISTERED = new Set(PROBE_KINDS.map((k) => k.id));
const KNOWN_METRICS = [...ENGINE_METRICS, ...Object.keys(KIND_METRICS)];
/** Metrics a running agent with every registered kind configured must have: the engine's and its kinds'. */
const AVAILABLE = new Set<string>([
  ...ENGINE_METRICS,
  ...Object.entries(KIND_METRICS)
    .filter(([, kinds]) => kinds.some((k) => REGISTERED.has(k)))
    .map(([metric]) => metric),
]);

/** Metric names an expression reads (histogram and summary suffixes folded into the family). */
function metricsOf(expr: string): string[] {
  const names = [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)].map((m) => m[1]!);
  const bare = KNOWN_METRICS.filter((m) => new RegExp(`\\b${m}(_bucket|_count|_sum)?\\b`).test(expr));
  return [...new Set([...names.map((n) => n.replace(/_(bucket|count|sum)$/, "")), ...bare])].filter(
    (n) => !["by", "on", "without", "ignoring", "group_left", "group_right", "bool", "le"].includes(n),
  );
}

/** True unless the expression selects kinds by name and none of them is registered. */
function selectsRegisteredKind(expr: string): boolean {
  const selected = [...expr.matchAll(/kind=~?"([^"$]+)"/g)].flatMap((m) => m[1]!.split("|"));
  return selected.length === 0 || selected.some((k) => REGISTERED.has(k));
}

/** Grafana's variables, expanded to "everything". */
function expand(expr: string): string {
  return expr
    .replaceAll("${service:pipe}", SERVICES.flatMap((s) => s.kinds).join("|"))
    .replaceAll("$location", ".*")
    .replaceAll("$check", ".*")
    .replaceAll("$__rate_interval", "30s")
    .replaceAll("$__range", "1m");
}

let prometheus: ChildProcess | undefined;
let agent: ReturnType<typeof startCli> | undefined;
let dovecot: TestDovecot;
let sim: Simulator;
let mta: MaildirSmtpServer;
let smtp: TestSmtpServer;
let promPort: number;
let dataDir: string;

async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  const url = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`;
  return (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

beforeAll(async () => {
  const { ca } = await testCerts();
  [dovecot, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
  mta = await startMaildirSmtpServer(dovecot.folderDir());
  sim = await startSimulator();
  // Open provider incidents, so the provider panels and rules have something to show.
  sim.openIssue({ id: "EX1", service: "Exchange Online", title: "Mail delayed" });
  sim.setSlackIncident({ id: 1, title: "Messages delayed", type: "incident", services: ["Messaging"] });
  const agentPort = await freePort();
  promPort = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), "suiteprobe-prom-"));
  const passwordFile = join(dataDir, "pw");
  writeFileSync(passwordFile, dovecot.password, { mode: 0o600 });
  const secretFile = join(dataDir, "client-secret");
  writeFileSync(secretFile, SIM_APP.secret, { mode: 0o600 });
  const slackTokenFile = join(dataDir, "slack-token");
  writeFileSync(slackTokenFile, "xoxb-sim-bot-token", { mode: 0o600 });
  const config = writeConfig(`
agent: { listen: "127.0.0.1:${agentPort}", location: lab, labels: { provider: lab }, metrics: { run_duration_histogram: true } }
defaults: { interval: 1s, timeout: 800ms }
credentials:
  m365:
    type: entra_client_secret
    tenant: ${SIM_TENANT}
    client_id: ${SIM_APP.clientId}
    client_secret: "\${file:${secretFile}}"
    authority: ${sim.url}
checks:
  - name: health-api
    kind: http
    target: ${sim.url}/v1.0/admin/serviceAnnouncement/healthOverviews
    http: { credential: m365 }
  - name: signin
    kind: entra_signin
    interval: 5s
    entra_signin: { credential: m365 }
  - name: search
    kind: graph_search
    interval: 8s
    timeout: 7s
    graph_search:
      credential: m365
      graph_url: ${sim.url}
      query: suiteprobe-canary
      region: NAM
      expect: { file_name: suiteprobe-canary.docx }
      index_lag: { drive_id: "b!sim-drive-0001", max_lag: 2s, poll_interval: 200ms }
  - name: ${nameStartingSoon("m365-health", 300_000)}
    kind: m365_service_health
    m365_service_health: { credential: m365, graph_url: ${sim.url} }
  - name: slack-health
    kind: slack_status
    slack_status: { status_url: "${sim.url}/api/v2.0.0" }
  - name: submit-tls
    kind: smtp
    target: 127.0.0.1:${smtp.port}
    smtp: { tls: starttls, ca_file: ${ca.certPath}, mail_from: probe@lab.test, rcpt_to: ok@lab.test }
  - name: mailbox
    kind: imap
    target: 127.0.0.1:${dovecot.port}
    imap: { tls: none, allow_plaintext_auth: true, auth: { mechanism: login, user: ${dovecot.user}, password: "\${file:${passwordFile}}" } }
  - name: roundtrip
    kind: mail_roundtrip
    interval: 12s
    timeout: 11s
    mail_roundtrip:
      submit: { target: "127.0.0.1:${mta.port}", tls: none, mail_from: probe@lab.test, rcpt_to: probe@lab.test }
      mailbox:
        target: "127.0.0.1:${dovecot.port}"
        tls: none
        allow_plaintext_auth: true
        auth: { mechanism: login, user: ${dovecot.user}, password: "\${file:${passwordFile}}" }
      max_delivery: 1s
      poll_interval: 100ms
  - name: slack
    kind: slack_chat
    interval: 12s
    timeout: 11s
    slack_chat:
      token: "\${file:${slackTokenFile}}"
      channel: C0SIM0001
      slack_url: "${sim.url}/api"
      max_delivery: 1s
      read_interval: 1s
  - name: refused
    kind: smtp
    target: 127.0.0.1:1
    smtp: { tls: none }
`);
  agent = startCli(["run", "--config", config]);
  writeFileSync(
    join(dataDir, "prometheus.yml"),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: suiteprobe
    static_configs: [{ targets: ["127.0.0.1:${agentPort}"] }]
`,
  );
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${join(dataDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dataDir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let promLog = "";
  prometheus.stderr?.on("data", (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
  prometheus.once("exit", (code) => {
    if (code !== null && code !== 0) console.error(`prometheus exited ${code}:\n${promLog}`);
  });
  // Enough scrapes for 20s windows to hold several samples of every series, including a finished round trip.
  await eventually(async () => {
    const r = await query('sum(increase(probe_mail_delivery_seconds_count{check="roundtrip"}[30s])) > 0');
    const s = await query('count(probe_ssl_earliest_cert_expiry{check="submit-tls"}) > 0');
    const c = await query('sum(increase(probe_chat_delivery_seconds_count{kind="slack_chat"}[30s])) > 0');
    const p = await query('count(provider_service_status{kind="m365_service_health"}) > 0');
    const l = await query("count(probe_search_index_lag_seconds) > 0");
    return [r, s, c, p, l].every((x) => (x.data?.result.length ?? 0) > 0) ? true : undefined;
  }, 40_000).catch((error: unknown) => {
    throw new Error(`no data: agent said ${agent?.output.stdout.slice(-2000)} ${agent?.output.stderr}`, {
      cause: error,
    });
  });
}, 60_000);

afterAll(async () => {
  agent?.child.kill("SIGTERM");
  prometheus?.kill("SIGTERM");
  await Promise.all([mta?.close(), smtp?.close(), sim?.close()]);
  await dovecot?.dispose();
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dataDir, { recursive: true, force: true });
});

const dashboard = dashboardQueries();
const grafanaRules = (
  grafanaRulesFile() as {
    groups: { rules: { title: string; data: { refId: string; model: { expr?: string } }[] }[] }[];
  }
).groups.flatMap((g) =>
  g.rules.flatMap((r) =>
    r.data.filter((d) => d.model.expr !== undefined).map((d) => ({ panel: r.title, expr: d.model.expr! })),
  ),
);

describe("every PromQL expression of the dashboard and the Grafana rules, against a real Prometheus", () => {
  it("covers every dashboard target and every Grafana rule", () => {
    expect(dashboard.length).toBeGreaterThan(20);
    expect(grafanaRules.map((r) => r.panel).sort()).toEqual(ALERTS.map((a) => a.name).sort());
    const all = [...dashboard, ...grafanaRules];
    const mustHaveData = all.filter(
      (q) => metricsOf(q.expr).every((m) => AVAILABLE.has(m)) && selectsRegisteredKind(q.expr),
    );
    console.log(`${mustHaveData.length} of ${all.length} expressions must return data with the registered kinds`);
    // With mail kinds registered, most of the engine's panels and rules are live; this grows as kinds are added.
    expect(mustHaveData.length).toBeGreaterThanOrEqual(25);
  });

  it.each([...dashboard, ...grafanaRules].map((q) => [q.panel, q.expr] as const))(
    "%s: parses, reads only known metrics, returns data when its metrics and kinds are registered",
    async (_title, expr) => {
      const metrics = metricsOf(expr);
      expect(metrics.length, expr).toBeGreaterThan(0);
      for (const m of metrics) expect(KNOWN_METRICS, `unknown metric ${m} in ${expr}`).toContain(m);
      const result = await query(expand(expr));
      expect(result.error, expr).toBeUndefined();
      expect(result.status).toBe("success");
      if (metrics.every((m) => AVAILABLE.has(m)) && selectsRegisteredKind(expr))
        expect(result.data?.result.length, expr).toBeGreaterThan(0);
    },
  );

  it("has a dashboard panel selecting every registered kind", () => {
    for (const kind of REGISTERED) {
      const hit = dashboard.some((q) =>
        [...q.expr.matchAll(/kind=~"([^"$]+)"/g)].some((m) => m[1]!.split("|").includes(kind)),
      );
      expect(hit, `no panel for kind ${kind}`).toBe(true);
    }
  });
});
