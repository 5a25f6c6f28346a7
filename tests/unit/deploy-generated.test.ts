import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALERTS } from "../../deploy/alerts.js";
import { generatedFiles } from "../../deploy/generate.js";
import { SERVICES, serviceOfKind } from "../../deploy/services.js";
import { PROBE_KINDS } from "../../probes/index.js";

const root = join(import.meta.dirname, "../..");

describe("generated deploy files", () => {
  it("are committed exactly as `npm run deploy:gen` writes them", async () => {
    const files = await generatedFiles();
    expect(Object.keys(files).length).toBeGreaterThanOrEqual(8);
    for (const [path, text] of Object.entries(files)) {
      expect(readFileSync(join(root, path), "utf8"), `${path} is stale: run npm run deploy:gen`).toBe(text);
    }
  });

  it("give every alert summary, description and a runbook section its runbook_url points at", () => {
    const rules = parse(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8")) as {
      groups: { rules: { alert: string; annotations: Record<string, string> }[] }[];
    };
    const runbook = readFileSync(join(root, "docs/runbook.md"), "utf8");
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert).sort()).toEqual(ALERTS.map((a) => a.name).sort());
    for (const rule of all) {
      expect(rule.annotations.summary, rule.alert).toMatch(/\S/);
      expect(rule.annotations.description, rule.alert).toMatch(/\S/);
      const anchor = rule.annotations.runbook_url!.split("#")[1]!;
      expect(runbook, rule.alert).toContain(`\n## ${rule.alert}\n`);
      expect(anchor).toBe(rule.alert.toLowerCase());
    }
  });

  it("are all named in the README's alert table for the on-call person", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("### Alerts for the on-call person"), readme.indexOf("### Compose"));
    for (const alert of ALERTS) expect(table, alert.name).toContain(`\`${alert.name}\``);
  });
});

describe("every registered probe kind", () => {
  const kinds = PROBE_KINDS.map((k) => k.id);

  it("is mapped to exactly one service", () => {
    expect(kinds.length).toBeGreaterThan(0);
    for (const kind of kinds) {
      expect(serviceOfKind(kind), `kind ${kind} has no service in deploy/services.ts`).toBeDefined();
      expect(SERVICES.filter((s) => (s.kinds as readonly string[]).includes(kind))).toHaveLength(1);
    }
  });

  it("is covered by a persistent-failure rule whose expression selects it", () => {
    for (const kind of kinds) {
      const covering = ALERTS.filter(
        (a) =>
          a.kinds !== "*" &&
          a.kinds.includes(kind) &&
          new RegExp(`kind=~"([^"]*\\|)?${kind}(\\|[^"]*)?"`).test(a.value),
      );
      expect(covering.length, `no rule selects kind ${kind}`).toBeGreaterThan(0);
      expect(covering.some((a) => a.name === serviceOfKind(kind)?.alert)).toBe(true);
    }
  });
});
