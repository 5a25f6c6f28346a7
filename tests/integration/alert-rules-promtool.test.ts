import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const promtool = (...args: string[]) => spawnSync("promtool", args, { cwd: root, encoding: "utf8", timeout: 120_000 });
const testFiles = readdirSync(join(root, "deploy/prometheus/tests"))
  .filter((f) => f.endsWith(".test.yml"))
  .map((f) => `deploy/prometheus/tests/${f}`);

describe("Prometheus alert rules, checked by Debian's promtool", () => {
  it("pass promtool check rules (alerts.yml, the test copy and the PrometheusRule's groups)", () => {
    const resource = parse(readFileSync(join(root, "deploy/kubernetes/prometheus-rule.yaml"), "utf8")) as {
      spec: { groups: unknown[] };
    };
    const fromResource = join(mkdtempSync(join(tmpdir(), "suiteprobe-rules-")), "prometheus-rule-groups.yml");
    writeFileSync(fromResource, stringify({ groups: resource.spec.groups }));
    const files = ["deploy/prometheus/alerts.yml", "deploy/prometheus/tests/rules.yml", fromResource];
    const result = promtool("check", "rules", ...files);
    expect(result.error).toBeUndefined();
    expect(result.stdout.match(/SUCCESS: 22 rules found/g)).toHaveLength(3);
    expect(result.status, result.stderr).toBe(0);
  });

  it.each(testFiles)(
    "pass the promtool unit tests in %s",
    (file) => {
      const result = promtool("test", "rules", file);
      expect(result.error).toBeUndefined();
      expect(`${result.stdout}${result.stderr}`).toContain("SUCCESS");
      expect(result.status, result.stdout + result.stderr).toBe(0);
    },
    120_000,
  );

  it("fail a unit test whose expectation is wrong (the harness can fail)", () => {
    const result = promtool("test", "rules", "tests/fixtures/promtool/wrong-expectation.test.yml");
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain("SuiteprobeMailFailing");
  });
});
