import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVICES } from "../../deploy/services.js";
import { scaleDuration, scaleRules } from "../../lab/drill/scale-rules.js";
import { LIVE_SERVICE_OF_KIND, verdict, type LiveRow } from "../../lab/live-view.js";
import { parseScenario } from "../../lab/scenario/schema.js";
import { faultPairs, storyClock } from "../../lab/scenario/timeline.js";
import { loadConfigFile } from "../../src/config/load.js";
import { PROBE_KINDS } from "../../probes/index.js";

const root = join(import.meta.dirname, "../..");

describe("scenarios", () => {
  const files = readdirSync(join(root, "scenarios")).filter((f) => f.endsWith(".yaml"));

  it("ships the five scenarios of issue 13, each valid and named after its file", () => {
    expect(files.sort()).toEqual(
      ["apac-signin", "flapping", "healthy", "m365-2026-01-22", "throttled"].map((n) => `${n}.yaml`),
    );
    for (const file of files) {
      const result = parseScenario(readFileSync(join(root, "scenarios", file), "utf8"), file);
      expect(result.ok ? [] : result.errors, file).toEqual([]);
      if (result.ok) expect(`${result.scenario.name}.yaml`).toBe(file);
    }
  });

  it("22 January: the acknowledgement comes 35 story minutes after the first failures, recovery before the end", () => {
    const result = parseScenario(readFileSync(join(root, "scenarios/m365-2026-01-22.yaml"), "utf8"), "m365");
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const at = (mark: string) => result.scenario.steps.find((s) => s.mark === mark)?.at as number;
    expect((at("acknowledged") - at("onset")) / 60_000).toBe(35);
    expect(at("recovered")).toBeLessThan(result.scenario.duration);
    expect(faultPairs(result.scenario)).toContainEqual(["smtp", "reply"]);
  });

  it("reports every problem at once, one line each with its path", () => {
    const result = parseScenario(
      `name: Bad Name
description: x
duration: 10m
speed: 0
steps:
  - at: 5m
    note: a
    set:
      smtp: [{ type: reply, stage: helo, code: 451 }]
      imap: [{ type: login, probabilty: 0.5 }]
      graph.nope: []
  - at: 1m
    note: b
    colour: red
`,
      "bad.yaml",
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      "name: must be lower-case letters, digits and -",
      "speed: Too small: expected number to be >0",
      'steps[0].set.smtp[0].stage: Invalid option: expected one of "connect"|"mail"|"rcpt"|"data"',
      'steps[0].set.imap[0]: Unrecognized key: "probabilty"',
      `steps[0].set.graph.nope: unknown service (known: smtp, imap, ${result.errors[4]?.split("imap, ")[1]?.slice(0, -1)})`,
      "steps[1].colour: unknown field",
    ]);
  });

  it("refuses steps out of order and a YAML syntax error", () => {
    const order = parseScenario(
      "name: x\ndescription: x\nduration: 10m\nsteps:\n  - { at: 5m, note: a }\n  - { at: 1m, note: b }\n",
      "o.yaml",
    );
    expect(order).toEqual({ ok: false, errors: ["steps[1].at: must not be earlier than the step before"] });
    const syntax = parseScenario("name: [x\n", "s.yaml");
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.errors[0]).toMatch(/^s\.yaml: YAML: /);
  });
});

describe("config/lab.yaml", () => {
  it("loads with the registered kinds (only those) and points every check at the lab on 127.0.0.1", async () => {
    process.env.SUITEPROBE_LAB_PASSWORD ??= "lab";
    process.env.SUITEPROBE_LAB_APP_SECRET ??= "sim-secret-value";
    const result = await loadConfigFile(join(root, "config/lab.yaml"), PROBE_KINDS);
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.config.checks.length).toBeGreaterThanOrEqual(3);
    // Socket kinds name the lab's ports; sign-in is labelled by its credential, whose authority is the lab's too.
    for (const check of result.config.checks) {
      expect(check.target.label).toMatch(/^(?:127\.0\.0\.1:105\d\d|http:\/\/127\.0\.0\.1:105\d\d.*|credential:\w+)$/);
    }
    for (const { settings } of result.config.credentials.values()) {
      expect((settings as { authority?: string }).authority).toMatch(/^http:\/\/127\.0\.0\.1:105\d\d$/);
    }
  });
});

describe("live view", () => {
  it("groups kinds into the services of deploy/services.ts", () => {
    const fromDeploy = Object.fromEntries(SERVICES.flatMap((s) => s.kinds.map((k) => [k, s.id])));
    expect(LIVE_SERVICE_OF_KIND).toEqual(fromDeploy);
  });

  it("states side, transience, codes and since when", () => {
    const row = (over: Partial<LiveRow>): LiveRow => ({ check: "c", kind: "smtp", state: "ok", ...over });
    const failing = row({
      state: "failing",
      side: "provider",
      retryable: true,
      code: "4.3.2",
      facts: { smtp_reply_code: 451 },
    });
    const clock = (ms: number) => storyClock("13:58", ms);
    expect(verdict("mail", [{ ...failing, failingSince: 44 * 60_000 }, row({ check: "d" })], clock)).toBe(
      "mail: provider-side, transient (451 4.3.2), 1 of 2 checks since 14:42",
    );
    expect(verdict("mail", [row({}), row({ check: "d" })], clock)).toBe("mail: ok (2 checks)");
    expect(storyClock(undefined, 67 * 60_000)).toBe("+01:07");
  });
});

describe("drill rules", () => {
  it("divides every duration by the speed", () => {
    expect(scaleDuration("15m", 60)).toBe("15000ms");
    expect(scaleDuration("1m", 60)).toBe("1000ms");
    const scaled = scaleRules(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8"), 60);
    expect(scaled).not.toMatch(/\[\d+[smhd]\]/);
    expect(scaled).toContain("[15000ms]");
    expect(scaled).toMatch(/for: 5000ms/);
    expect(scaled).toMatch(/keep_firing_for: 10000ms/);
    expect(scaled).toMatch(/interval: 1000ms/);
  });
});
