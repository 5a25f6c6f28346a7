// The lab's own /metrics: its current fault state as ground truth beside what the agent detects.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Gauge, Registry } from "prom-client";
import type { LabFault, LabService } from "./lab.js";

/** The lab's metrics, on an explicit registry. */
export class LabMetrics {
  readonly registry = new Registry();
  readonly faultActive = new Gauge({
    name: "lab_fault_active",
    help: "1 while the lab has a fault of this type set on this service (its probability may be below 1).",
    labelNames: ["service", "fault"] as const,
    registers: [this.registry],
  });
  readonly faultProbability = new Gauge({
    name: "lab_fault_probability_ratio",
    help: "Share of transactions the fault applies to (0 when not set).",
    labelNames: ["service", "fault"] as const,
    registers: [this.registry],
  });
  readonly step = new Gauge({
    name: "lab_scenario_step",
    help: "Index of the scenario step in force (0-based; -1 before the first).",
    registers: [this.registry],
  });
  readonly offset = new Gauge({
    name: "lab_scenario_offset_seconds",
    help: "Scenario time elapsed (scaled: real seconds times the speed).",
    registers: [this.registry],
  });
  readonly #known = new Set<string>();

  /** Pre-initialises the pairs a scenario will use, so their series exist at 0 before the fault starts. */
  declare(pairs: readonly (readonly [LabService, string])[]): void {
    for (const [service, fault] of pairs) {
      this.#known.add(`${service}\u0000${fault}`);
      this.faultActive.set({ service, fault }, 0);
      this.faultProbability.set({ service, fault }, 0);
    }
  }

  /** Sets the gauges from the lab's fault table (declared pairs not present go back to 0). */
  update(faults: Partial<Record<LabService, LabFault[]>>): void {
    const active = new Map<string, number>();
    for (const [service, list] of Object.entries(faults)) {
      for (const fault of list) {
        const key = `${service}\u0000${fault.type}`;
        active.set(key, Math.max(active.get(key) ?? 0, fault.probability ?? 1));
      }
    }
    for (const key of new Set([...this.#known, ...active.keys()])) {
      this.#known.add(key);
      const [service = "", fault = ""] = key.split("\u0000");
      const probability = active.get(key);
      this.faultActive.set({ service, fault }, probability === undefined ? 0 : 1);
      this.faultProbability.set({ service, fault }, probability ?? 0);
    }
  }
}

/** Serves `/metrics` of the lab (and `/` with the fault state as JSON) on `host:port`. */
export async function serveLabMetrics(
  metrics: LabMetrics,
  host: string,
  port: number,
  state: () => unknown,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/metrics") {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === "/") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(state(), null, 2));
    } else {
      res.writeHead(404).end();
    }
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
