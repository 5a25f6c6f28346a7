import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, exitOf, startCli, writeConfig } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";
import { parseExposition, seriesKey } from "../helpers/prometheus-text.js";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-test-server.js";

let server: TestSmtpServer;
let port: number;
let configPath: string;
let agent: ReturnType<typeof startCli>;

const VERSION = "0.1.0";

function configYaml(options: { withOutage: boolean; extra?: string }): string {
  return `
agent: { listen: "127.0.0.1:${port}", location: e2e, labels: { team: mail }, metrics: { last_success_timestamp: true } }
defaults: { interval: 1s, timeout: 800ms }
checks:
  - name: submit-ok
    kind: smtp
    target: 127.0.0.1:${server.port}
    smtp: { tls: none, mail_from: probe@lab.test, rcpt_to: ok@lab.test }
${
  options.withOutage
    ? `  - name: submit-outage
    kind: smtp
    target: 127.0.0.1:${server.port}
    labels: { team: exchange }
    smtp: { tls: none, mail_from: probe@lab.test, rcpt_to: outage@lab.test }
`
    : ""
}${options.extra ?? ""}`;
}

async function scrape(): Promise<{ text: string; series: Map<string, number> }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  const text = await response.text();
  return { text, series: parseExposition(text) };
}

const base = (check: string, team: string) => ({
  check,
  kind: "smtp",
  target: `127.0.0.1:${server.port}`,
  location: "e2e",
  team,
});

beforeAll(async () => {
  server = await startSmtpServer({
    hideSTARTTLS: true,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("outage@")) {
        callback(Object.assign(new Error("4.3.2 Temporary server issue"), { responseCode: 451 }));
      } else callback();
    },
  });
  port = await freePort();
  configPath = writeConfig(configYaml({ withOutage: true }));
  agent = startCli(["run", "--config", configPath, "--web.enable-lifecycle"]);
});

afterAll(async () => {
  if (agent.child.exitCode === null) agent.child.kill("SIGKILL");
  await server.close();
});

describe("the agent, as a child process", () => {
  it("exposes the exact series of both checks after their first runs", async () => {
    const outage = base("submit-outage", "exchange");
    const ok = base("submit-ok", "mail");
    const { series } = await eventually(async () => {
      const scraped = await scrape();
      const hasBoth =
        (scraped.series.get(seriesKey("probe_runs_total", { ...outage, result: "failure" })) ?? 0) >= 1 &&
        (scraped.series.get(seriesKey("probe_runs_total", { ...ok, result: "success" })) ?? 0) >= 1;
      return hasBoth ? scraped : undefined;
    }, 20_000);

    expect(series.get(seriesKey("probe_success", ok))).toBe(1);
    expect(series.get(seriesKey("probe_success", outage))).toBe(0);
    expect(
      series.get(
        seriesKey("probe_errors_total", {
          ...outage,
          class: "unavailable",
          code: "4.3.2",
          phase: "rcpt",
          side: "provider",
        }),
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(series.get(seriesKey("probe_runs_total", { ...outage, result: "success" }))).toBe(0);
    expect(series.get(seriesKey("probe_smtp_reply_code", outage))).toBe(451);
    expect(series.get(seriesKey("probe_smtp_reply_code", ok))).toBe(221);
    for (const phase of ["connect", "banner", "ehlo", "mail", "rcpt", "quit"]) {
      expect(series.get(seriesKey("probe_phase_duration_seconds", { ...ok, phase }))).toBeGreaterThan(0);
    }
    expect(series.get(seriesKey("probe_duration_seconds", ok))).toBeGreaterThan(0);
    expect(series.get(seriesKey("probe_last_success_timestamp_seconds", ok))).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(series.has(seriesKey("probe_last_success_timestamp_seconds", outage))).toBe(false);
    // Opt-in (agent.metrics.run_duration_histogram): not exported by default.
    expect(series.has(seriesKey("probe_run_duration_seconds_count", ok))).toBe(false);
    expect(series.get(seriesKey("suiteprobe_build_info", { version: VERSION, node_version: process.version }))).toBe(1);
    expect(series.get(seriesKey("suiteprobe_checks", { kind: "smtp" }))).toBe(2);
    expect(series.get(seriesKey("suiteprobe_checks", { kind: "imap" }))).toBe(0);
    // Created with the first overlap skip, not before (a run's timeout is shorter than its interval).
    expect(series.has(seriesKey("suiteprobe_runs_skipped_total", { check: "submit-ok", reason: "overlap" }))).toBe(
      false,
    );
    expect(series.get("suiteprobe_config_last_reload_successful")).toBe(1);
    expect(series.get("suiteprobe_scheduler_lag_seconds_count")).toBeGreaterThanOrEqual(2);
    expect(series.has("process_resident_memory_bytes")).toBe(true);
  });

  it("passes promtool check metrics", async () => {
    const { text } = await scrape();
    const promtool = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(promtool.error).toBeUndefined();
    expect(`${promtool.stdout}${promtool.stderr}`).toBe("");
    expect(promtool.status).toBe(0);
  });

  it("serves health, readiness and the status page", async () => {
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain("<td>submit-outage</td>");
    expect(page).toContain("<td>unavailable</td><td>4.3.2</td><td>rcpt</td>");
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: "DELETE" })).status).toBe(405);
  });

  it("logs one JSON line per result with class and code", () => {
    const lines = agent.output.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = lines.find((l) => l.check === "submit-outage" && l.result === "failure");
    expect(failure).toMatchObject({ class: "unavailable", code: "4.3.2", phase: "rcpt", retryable: true });
    expect(typeof failure?.duration_ms).toBe("number");
    expect(failure?.phases_ms).toHaveProperty("rcpt");
  });

  it("on SIGHUP drops a removed check's series; an invalid reload keeps the old config running", async () => {
    writeFileSync(configPath, configYaml({ withOutage: false }));
    agent.child.kill("SIGHUP");
    await eventually(async () => {
      const { text } = await scrape();
      return text.includes('check="submit-outage"') ? undefined : true;
    });
    const { series } = await scrape();
    expect(series.get(seriesKey("suiteprobe_checks", { kind: "smtp" }))).toBe(1);
    const okRuns = seriesKey("probe_runs_total", { ...base("submit-ok", "mail"), result: "success" });
    const runsBefore = series.get(okRuns) ?? 0;

    writeFileSync(configPath, configYaml({ withOutage: false, extra: "  - { name: broken, kind: smtp }\n" }));
    const response = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: "POST" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("1 problem(s) at checks[1].target. See the agent log");
    await eventually(() =>
      Promise.resolve(
        agent.output.stdout.includes('"problem":"checks[1].target: is required (host or host:port)"') || undefined,
      ),
    );
    const after = await eventually(async () => {
      const scraped = await scrape();
      return (scraped.series.get(okRuns) ?? 0) > runsBefore ? scraped : undefined;
    });
    expect(after.series.get("suiteprobe_config_last_reload_successful")).toBe(0);
    expect(after.series.get(seriesKey("suiteprobe_checks", { kind: "smtp" }))).toBe(1);
  });

  it("stops cleanly on SIGTERM with exit code 0", async () => {
    const started = Date.now();
    agent.child.kill("SIGTERM");
    expect(await exitOf(agent.child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(agent.output.stdout).toContain('"msg":"stopped"');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
