import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";

const root = join(import.meta.dirname, "../..");
const k8sDir = join(root, "deploy/kubernetes");

/** Node's lookup of a bare specifier from `fromDir`, by path: the packages' `exports` hide their _schemas. */
function resolveBare(spec: string, fromDir: string): string {
  const file = spec.endsWith(".js") ? spec : `${spec}.js`;
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", file);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot resolve ${spec} from ${fromDir}`);
  }
}

type Manifest = { kind: string; metadata: { name: string }; spec?: Record<string, unknown> } & Record<string, unknown>;

/** kubernetes-models module (exporting the kind's class) and its compiled schema module per kind. */
const MODELS: Record<string, { module: string; schema: string }> = {
  Deployment: { module: "kubernetes-models/apps/v1", schema: "kubernetes-models/_schemas/IoK8sApiAppsV1Deployment.js" },
  StatefulSet: {
    module: "kubernetes-models/apps/v1",
    schema: "kubernetes-models/_schemas/IoK8sApiAppsV1StatefulSet.js",
  },
  Service: { module: "kubernetes-models/v1", schema: "kubernetes-models/_schemas/IoK8sApiCoreV1Service.js" },
  ConfigMap: { module: "kubernetes-models/v1", schema: "kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap.js" },
  Secret: { module: "kubernetes-models/v1", schema: "kubernetes-models/_schemas/IoK8sApiCoreV1Secret.js" },
  ServiceMonitor: {
    module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
    schema:
      "@kubernetes-models/prometheus-operator/_schemas/ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1ServiceMonitor.js",
  },
  PrometheusRule: {
    module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
    schema:
      "@kubernetes-models/prometheus-operator/_schemas/ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1PrometheusRule.js",
  },
};

/**
 * `new Model(manifest).validate()` of kubernetes-models (types and required fields), in a plain Node process: the
 * models' schema imports rely on package `exports` patterns that vitest's resolver does not follow. "" when valid.
 */
function validateWithModel(manifest: Manifest): string {
  const entry = MODELS[manifest.kind]!;
  const script = `import { ${manifest.kind} as Model } from ${JSON.stringify(entry.module)};
let input = ""; for await (const chunk of process.stdin) input += chunk;
try { new Model(JSON.parse(input)).validate(); } catch (error) { process.stdout.write(String(error.message ?? error)); }`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    input: JSON.stringify(manifest),
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

/**
 * Every property name the kind's schema and the schemas it imports know (the compiled validators read each as
 * `data.name`). The models do not reject unknown fields (Kubernetes schemas allow them); this does, by name.
 */
function knownFields(schemaModule: string): Set<string> {
  const seen = new Set<string>();
  const fields = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const m of source.matchAll(/data\.([A-Za-z_$][\w$]*)/g)) fields.add(m[1]!);
    for (const m of source.matchAll(/missingProperty:"([^"]+)"/g)) fields.add(m[1]!);
    for (const m of source.matchAll(/from"([^"]+)"/g)) {
      const spec = m[1]!;
      if (!spec.startsWith(".") && !spec.includes("/_schemas/")) continue;
      visit(spec.startsWith(".") ? resolve(dirname(file), spec) : resolveBare(spec, dirname(file)));
    }
  };
  visit(resolveBare(schemaModule, root));
  return fields;
}

/** Keys whose values are free-form maps (names chosen by the user), not schema fields. */
const FREE_FORM = new Set([
  "labels",
  "annotations",
  "data",
  "stringData",
  "matchLabels",
  "requests",
  "limits",
  "selector",
]);

function unknownKeys(value: unknown, known: Set<string>, path: string, parentKey = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownKeys(v, known, `${path}[${i}]`, parentKey));
  if (value === null || typeof value !== "object") return [];
  if (FREE_FORM.has(parentKey) && !(parentKey === "selector" && "matchLabels" in value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(known.has(k) ? [] : [`${path}.${k}`]),
    ...(k === "groups" && parentKey === "spec" ? [] : unknownKeys(v, known, `${path}.${k}`, k)),
  ]);
}

const manifestFiles = readdirSync(k8sDir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
const manifests = manifestFiles.map((f) => [f, parse(readFileSync(join(k8sDir, f), "utf8")) as Manifest] as const);
const byKind = (kind: string) => manifests.filter(([, m]) => m.kind === kind).map(([, m]) => m);

describe("Kubernetes manifests", () => {
  it("cover the workload, service, config, secret example, ServiceMonitor and PrometheusRule", () => {
    expect(manifests.map(([, m]) => m.kind).sort()).toEqual(
      ["ConfigMap", "Deployment", "PrometheusRule", "Secret", "Service", "ServiceMonitor", "StatefulSet"].sort(),
    );
  });

  it.each(manifestFiles)("%s validates against its kubernetes-models model and has no unknown fields", (file) => {
    const manifest = manifests.find(([f]) => f === file)![1];
    const entry = MODELS[manifest.kind];
    expect(entry, `no model for ${manifest.kind}`).toBeDefined();
    expect(validateWithModel(manifest)).toBe("");
    expect(unknownKeys(manifest, knownFields(entry!.schema), manifest.kind)).toEqual([]);
  });

  it("catches a misspelt field and a missing required field (the checks can fail)", () => {
    const deployment = structuredClone(byKind("Deployment")[0]!);
    const container = (deployment.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template
      .spec.containers[0]!;
    (container.securityContext as Record<string, unknown>).readOnlyRootFileSystem = true;
    expect(unknownKeys(deployment, knownFields(MODELS.Deployment!.schema), "Deployment")).toEqual([
      "Deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem",
    ]);
    delete container.name;
    expect(validateWithModel(deployment)).toMatch(/name/);
  });

  it.each(["Deployment", "StatefulSet"])(
    "%s runs non-root, read-only, without privileges, with probes on 10587",
    (kind) => {
      const workload = byKind(kind)[0]!;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest, asserted field by field below
      const pod = (workload.spec as { template: { spec: Record<string, any> } }).template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
      const [container] = pod.containers as Record<string, any>[];
      expect(container!.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(container!.ports).toEqual([{ name: "metrics", containerPort: 10587, protocol: "TCP" }]);
      expect(container!.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
      expect(container!.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
      expect(container!.resources.requests).toBeDefined();
      expect(container!.resources.limits.memory).toBeDefined();
    },
  );

  it("shards the StatefulSet with SUITEPROBE_SHARD = ordinal/replicas", () => {
    const sts = byKind("StatefulSet")[0]!;
    const spec = sts.spec as {
      replicas: number;
      template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
    };
    const env = spec.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === "SUITEPROBE_SHARD")?.value).toBe(`$(POD_INDEX)/${spec.replicas}`);
  });

  it("ships a ConfigMap config the agent accepts", async () => {
    // The Secret is mounted at /etc/suiteprobe/secrets/; here a temp folder with the example's keys stands in.
    const dir = mkdtempSync(join(tmpdir(), "suiteprobe-k8s-"));
    for (const [key, value] of Object.entries(byKind("Secret")[0]!.stringData as Record<string, string>)) {
      writeFileSync(join(dir, key), value, { mode: 0o600 });
    }
    const config = (byKind("ConfigMap")[0]!.data as Record<string, string>)["config.yaml"]!;
    const path = join(dir, "config.yaml");
    writeFileSync(path, config.replaceAll("/etc/suiteprobe/secrets/", `${dir}/`));
    const result = await runCli(["check-config", "--config", path]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("lists only files that exist in kustomization.yaml", () => {
    const kustomization = parse(readFileSync(join(k8sDir, "kustomization.yaml"), "utf8")) as { resources: string[] };
    for (const r of kustomization.resources) expect(existsSync(join(k8sDir, r)), r).toBe(true);
  });
});

describe("compose demo", () => {
  const composeDir = join(root, "deploy/compose");
  const compose = parse(readFileSync(join(composeDir, "compose.yaml"), "utf8")) as {
    services: Record<string, { volumes?: string[]; image: string }>;
  };

  it("runs agent, Prometheus, Alertmanager and Grafana, mounting files that exist", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["agent", "alertmanager", "grafana", "prometheus"]);
    const sources = Object.values(compose.services).flatMap((s) => (s.volumes ?? []).map((v) => v.split(":")[0]!));
    expect(sources.length).toBeGreaterThanOrEqual(8);
    for (const source of sources) expect(existsSync(resolve(composeDir, source)), source).toBe(true);
  });

  it("has configs Prometheus's and Alertmanager's own tools accept, and an agent config the agent accepts", async () => {
    const prom = spawnSync("promtool", ["check", "config", "--syntax-only", join(composeDir, "prometheus.yml")], {
      encoding: "utf8",
    });
    expect(prom.status, prom.stdout + prom.stderr).toBe(0);
    const am = spawnSync("amtool", ["check-config", join(composeDir, "alertmanager.yml")], { encoding: "utf8" });
    expect(am.status, am.stdout + am.stderr).toBe(0);
    expect(am.stdout).toContain("3 receivers");
    const agent = await runCli(["check-config", "--config", join(composeDir, "suiteprobe.yaml")]);
    expect(agent.code, agent.stderr).toBe(0);
  });

  it("provisions Grafana's data source under the UID the dashboard and rules use", () => {
    const ds = parse(readFileSync(join(composeDir, "grafana/datasources.yaml"), "utf8")) as {
      datasources: { uid: string; type: string }[];
    };
    const dashboard = readFileSync(join(root, "deploy/grafana/dashboards/suiteprobe.json"), "utf8");
    expect(ds.datasources[0]).toMatchObject({ uid: "prometheus", type: "prometheus" });
    expect(dashboard).toContain('"uid": "prometheus"');
  });
});
