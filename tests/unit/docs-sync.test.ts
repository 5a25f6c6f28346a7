import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema, SCHEMA_PATH } from "../../src/config/json-schema.js";
import { parseConfigText } from "../../src/config/load.js";
import { configReference, kindTable, metricReference } from "../../src/docs/reference.js";
import { PROBE_KINDS } from "../../probes/index.js";

const SECRET_MISSING = /: (environment variable \w+ is not set|file \S+ cannot be read \(ENOENT\))$/;
const root = join(import.meta.dirname, "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");

function section(name: string): string {
  const match = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(readme);
  return match?.[1] ?? "";
}

describe("generated docs stay true (run `npm run docs` after changing a schema or a metric)", () => {
  it("the committed JSON Schema equals the one generated from the zod schema", () => {
    const committed: unknown = JSON.parse(readFileSync(join(root, SCHEMA_PATH), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema(PROBE_KINDS))));
  });

  it("the README's config reference is generated from the schema", () => {
    expect(section("config-reference")).toBe(configReference(PROBE_KINDS));
    expect(section("config-reference")).toContain("`checks[].smtp.starttls_required`");
  });

  it("the README's metric reference lists exactly the metrics exposed", () => {
    expect(section("metric-reference")).toBe(metricReference(PROBE_KINDS));
    expect(section("metric-reference")).toContain("`probe_errors_total` | counter |");
  });

  it("the README's table of kinds is the registry", () => {
    expect(section("kind-table")).toBe(kindTable(PROBE_KINDS));
  });

  it("every example config loads", () => {
    const examples = readdirSync(join(root, "config/examples")).map((f) => `config/examples/${f}`);
    for (const file of ["config/example.yaml", ...examples]) {
      const result = parseConfigText(readFileSync(join(root, file), "utf8"), PROBE_KINDS, file);
      // Examples reference secrets this machine does not have; every other problem is a defect.
      const problems = result.ok ? [] : result.errors.filter((e) => !SECRET_MISSING.test(e));
      expect(problems, file).toEqual([]);
    }
  });
});
