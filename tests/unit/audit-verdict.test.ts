import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "../../scripts/audit-verdict.mjs");

function verdict(report: unknown): { code: number | null; out: string } {
  const input = typeof report === "string" ? report : JSON.stringify(report);
  const result = spawnSync(process.execPath, [SCRIPT], { input, encoding: "utf8" });
  return { code: result.status, out: result.stdout.trim() };
}

const counts = (high: number, critical: number) => ({
  info: 0,
  low: 1,
  moderate: 0,
  high,
  critical,
  total: 1 + high + critical,
});

describe("scripts/audit-verdict.mjs", () => {
  it("fails on high or critical findings and names them", () => {
    const result = verdict({
      auditReportVersion: 2,
      vulnerabilities: { yaml: { severity: "high" }, pino: { severity: "low" } },
      metadata: { vulnerabilities: counts(1, 0) },
    });
    expect(result).toEqual({
      code: 1,
      out: "npm audit: 1 high/critical finding(s) in production dependencies: yaml (high)",
    });
  });

  it("passes when the findings are below high", () => {
    expect(
      verdict({ auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: counts(0, 0) } }).code,
    ).toBe(0);
  });

  it("does not fail the build when the endpoint refuses or cannot be reached", () => {
    expect(verdict({ statusCode: 405, error: { summary: "", detail: "" } })).toEqual({
      code: 0,
      out: "npm audit: the audit endpoint did not answer (405); skipped, not failed",
    });
    expect(verdict({ error: { code: "ENOTFOUND", summary: "getaddrinfo ENOTFOUND" } }).code).toBe(0);
    expect(verdict("").code).toBe(0);
  });

  it("fails when the project itself cannot be audited", () => {
    expect(verdict({ error: { code: "ENOLOCK", summary: "no lockfile" } }).code).toBe(2);
  });
});
