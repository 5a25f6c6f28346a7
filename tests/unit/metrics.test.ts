import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PROBE_KINDS } from "../../probes/index.js";
import { smtpKind } from "../../probes/smtp.js";
import { SMTP_REPLY_CODE_FACT } from "../../probes/wire/smtp/session.js";
import { CERT_EXPIRY_FACT } from "../../probes/wire/transport/tls.js";
import { collectFacts } from "../../src/core/facts.js";
import { renderExposition } from "../../src/metrics/exposition.js";
import { DEFAULT_METRICS_OPTIONS, Metrics } from "../../src/metrics/metrics.js";

const labels = { check: "mail", kind: "smtp", target: "mx.test:587", location: "lab" };

function probeLines(text: string): string[] {
  return text.split("\n").filter((l) => /^(# (HELP|TYPE) )?(probe_|suiteprobe_)/.test(l));
}

function scenario(): Metrics {
  const metrics = new Metrics(new Registry(), { version: "1.2.3", nodeVersion: "v24.0.0" }, collectFacts(PROBE_KINDS));
  metrics.setExtraLabels(["team"]);
  const series = { ...labels, team: "mail" };
  metrics.initCheck(series);
  metrics.recordRun(series, {
    success: true,
    durationSeconds: 0.25,
    phases: { connect: 0.01, banner: 0.2, quit: 0.04 },
    facts: new Map([
      [SMTP_REPLY_CODE_FACT, 221],
      [CERT_EXPIRY_FACT, 1_900_000_000],
    ]),
    declaredFacts: smtpKind.facts,
    endedAtSeconds: 1_800_000_000,
  });
  metrics.recordRun(series, {
    success: false,
    durationSeconds: 0.5,
    phases: { connect: 0.01, banner: 0.49 },
    facts: new Map([[SMTP_REPLY_CODE_FACT, 451]]),
    declaredFacts: smtpKind.facts,
    endedAtSeconds: 1_800_000_060,
    failure: { class: "unavailable", code: "4.3.2", phase: "rcpt", side: "provider" },
  });
  metrics.recordSkip("mail", "overlap");
  metrics.checksByKind.set({ kind: "smtp" }, 1);
  return metrics;
}

describe("Metrics", () => {
  it("matches the golden exposition (review tests/fixtures/golden/metrics.txt in the diff)", async () => {
    const metrics = scenario();
    const actual = probeLines((await renderExposition(metrics.registry)).toString()).join("\n");
    const path = join(import.meta.dirname, "../fixtures/golden/metrics.txt");
    // UPDATE_GOLDEN=1 rewrites the file; the diff is then reviewed like code.
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, `${actual}\n`);
    const golden = readFileSync(path, "utf8").trimEnd();
    expect(actual).toBe(golden);
  });

  it("drops phase series the last run did not report, and the cert expiry when no TLS happened", async () => {
    const text = await scenario().registry.metrics();
    expect(text).not.toMatch(/probe_phase_duration_seconds\{[^}]*phase="quit"/);
    expect(text).not.toContain("probe_ssl_earliest_cert_expiry{");
  });

  it("removes every series of a removed check and keeps the others", async () => {
    const metrics = scenario();
    const other = { ...labels, check: "other", team: "" };
    metrics.initCheck(other);
    metrics.removeCheck("mail");
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('check="mail"');
    expect(text).toContain('probe_runs_total{check="other"');
  });

  it("re-creates probe metrics when the configured label names change", async () => {
    const metrics = scenario();
    metrics.setExtraLabels(["region"]);
    metrics.initCheck({ ...labels, region: "eu" });
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('team="mail"');
    expect(text).toContain('region="eu"');
  });

  it("exports 12 series for an SMTP check with six phases and no TLS, 11 with five; optional families only when asked", async () => {
    const metrics = new Metrics(new Registry(), { version: "t", nodeVersion: "v24" }, collectFacts(PROBE_KINDS));
    const phases = { connect: 0.001, banner: 0.002, ehlo: 0.001, mail: 0.001, rcpt: 0.001, quit: 0.001 };
    const record = (check: string, ph: Record<string, number>) => {
      const series = { ...labels, check };
      metrics.initCheck(series);
      metrics.recordRun(series, {
        success: true,
        durationSeconds: 0.01,
        phases: ph,
        facts: new Map([[SMTP_REPLY_CODE_FACT, 221]]),
        declaredFacts: smtpKind.facts,
        endedAtSeconds: 1_800_000_000,
      });
    };
    const count = async (check: string) =>
      (await renderExposition(metrics.registry))
        .toString()
        .split("\n")
        .filter((l) => l.includes(`check="${check}"`)).length;
    record("six", phases);
    const { quit: _quit, ...fivePhases } = phases;
    record("five", fivePhases);
    // success, duration, 6 phases, runs{success,failure}, last run, reply code.
    expect(await count("six")).toBe(12);
    expect(await count("five")).toBe(11);
    expect(DEFAULT_METRICS_OPTIONS).toEqual({ runDurationHistogram: false, lastSuccessTimestamp: false });

    metrics.setOptions({ runDurationHistogram: true, lastSuccessTimestamp: true });
    record("six", phases);
    const text = (await renderExposition(metrics.registry)).toString();
    expect(text).toContain('probe_run_duration_seconds_count{check="six"');
    expect(text).toContain('probe_last_success_timestamp_seconds{check="six"');
    expect(await count("six")).toBe(12 + 17 + 1);

    // An overlap skip creates its series.
    expect(text).not.toContain('suiteprobe_runs_skipped_total{check="six"');
    metrics.recordSkip("six", "overlap");
    expect(await count("six")).toBe(12 + 17 + 1 + 1);
  });
});
