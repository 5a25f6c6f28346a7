/**
 * Kubernetes manifests, typed with kubernetes-models (tsc rejects unknown fields in these literals), written to
 * deploy/kubernetes/ by `npm run deploy:gen`. The PrometheusRule comes from the alert definitions (outputs/prometheus.ts).
 */
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import { JOB } from "./promql.js";

const NAME = "suiteprobe";
const PORT = 10587;
/** Replace with the image you built and pushed (see the README: Running in a container). */
const IMAGE = "registry.example.com/suiteprobe:0.1.0";
const labels = { "app.kubernetes.io/name": NAME };

/** The agent's config for the cluster: location from the environment, secrets from the mounted Secret. */
const CONFIG = `# The agent's config; see the README's config reference. Secrets come from the mounted Secret.
agent:
  listen: "0.0.0.0:${PORT}"
  location: eu-west-1
  labels: { cluster: prod }
defaults:
  interval: 60s
  timeout: 15s
checks:
  - name: exchange-online-submission
    kind: smtp
    target: smtp.office365.com:587
    labels: { provider: microsoft365 }
    smtp:
      tls: starttls
      auth: { mechanism: login, user: probe@example.com, password: "\${file:/etc/suiteprobe/secrets/smtp-password}" }
      mail_from: probe@example.com
      rcpt_to: probe@example.com
`;

/** The pod both workloads run; `env` adds workload-specific variables. */
function podSpec(env: NonNullable<IPodSpec["containers"][number]["env"]>): IPodSpec {
  const probe = (path: string) => ({
    httpGet: { path, port: "metrics" },
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });
  return {
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    },
    terminationGracePeriodSeconds: 30,
    containers: [
      {
        name: NAME,
        image: IMAGE,
        args: ["run", "--config", "/etc/suiteprobe/config.yaml"],
        env,
        ports: [{ name: "metrics", containerPort: PORT, protocol: "TCP" }],
        livenessProbe: probe("/healthz"),
        readinessProbe: probe("/readyz"),
        resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [
          { name: "config", mountPath: "/etc/suiteprobe/config.yaml", subPath: "config.yaml", readOnly: true },
          { name: "secrets", mountPath: "/etc/suiteprobe/secrets", readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "config", configMap: { name: NAME } },
      { name: "secrets", secret: { secretName: NAME, defaultMode: 0o400 } },
      { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
    ],
  };
}

const metadata = { name: NAME, labels };

/** One replica running every check. */
export const deployment: IDeployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata,
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: podSpec([]) },
  },
};

/**
 * Sharded: n replicas split one check list by a hash of the check name. SUITEPROBE_SHARD is `ordinal/n`, the ordinal
 * from the pod-index label (Kubernetes 1.28+; `suiteprobe-sharded-2` → `2/3`); keep n equal to `replicas`.
 */
export const statefulSet: IStatefulSet = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: `${NAME}-sharded`, labels },
  spec: {
    serviceName: NAME,
    replicas: 3,
    podManagementPolicy: "Parallel",
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: podSpec([
        {
          name: "POD_INDEX",
          valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
        },
        // `i/n`, as --shard takes it; n must equal `replicas`.
        { name: "SUITEPROBE_SHARD", value: "$(POD_INDEX)/3" },
      ]),
    },
  },
};

/** The scrape target (headless also serves the StatefulSet's stable pod names). */
export const service: IService = {
  apiVersion: "v1",
  kind: "Service",
  metadata,
  spec: { selector: labels, clusterIP: "None", ports: [{ name: "metrics", port: PORT, targetPort: "metrics" }] },
};

/** The agent config. */
export const configMap: IConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata, data: { "config.yaml": CONFIG } };

/** An example Secret: replace the value (or create it with kubectl/sealed-secrets); never commit a real one. */
export const secretExample: ISecret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata,
  type: "Opaque",
  stringData: { "smtp-password": "replace-me" },
};

/** prometheus-operator scrape config; `jobLabel` keeps job="suiteprobe", which the alert rules select. */
export const serviceMonitor: IServiceMonitor = {
  apiVersion: "monitoring.coreos.com/v1",
  kind: "ServiceMonitor",
  metadata: { name: NAME, labels: { ...labels, release: "prometheus" } },
  spec: {
    jobLabel: "app.kubernetes.io/name",
    selector: { matchLabels: labels },
    endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }],
  },
};

/** Manifests by file name under deploy/kubernetes/. */
export const KUBERNETES_MANIFESTS: Record<string, object> = {
  "deployment.yaml": deployment,
  "statefulset-sharded.yaml": statefulSet,
  "service.yaml": service,
  "configmap.yaml": configMap,
  "secret.example.yaml": secretExample,
  "servicemonitor.yaml": serviceMonitor,
};

/** The scrape job name the rules expect. */
export const SCRAPE_JOB = JOB;
