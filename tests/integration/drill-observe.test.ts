// What the drill counts as its own alert: those of its location, and provider-wide ones that carry no location.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerActive, prometheusFiring } from "../../lab/drill/observe.js";

const PROMETHEUS_ALERTS = {
  status: "success",
  data: {
    alerts: [
      { state: "firing", labels: { alertname: "SuiteprobeMailFailing", location: "drill" } },
      { state: "firing", labels: { alertname: "SuiteprobeSigninFailing", location: "elsewhere" } },
      { state: "pending", labels: { alertname: "SuiteprobeSearchDegraded", location: "drill" } },
      { state: "firing", labels: { alertname: "SuiteprobeProviderIncidentOpen", provider: "microsoft365" } },
    ],
  },
};
const ALERTMANAGER_ALERTS = [
  { labels: { alertname: "SuiteprobeMailFailing", location: "drill" }, status: { state: "active" } },
  { labels: { alertname: "SuiteprobeChatDegraded", location: "elsewhere" }, status: { state: "active" } },
  { labels: { alertname: "SuiteprobeProviderIncidentOpen" }, status: { state: "active" } },
  { labels: { alertname: "SuiteprobeWebFailing", location: "drill" }, status: { state: "suppressed" } },
];

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.url?.startsWith("/api/v1/alerts") ? PROMETHEUS_ALERTS : ALERTMANAGER_ALERTS;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("drill alert filter", () => {
  it("Prometheus: firing alerts of the drill's location and location-less ones; not pending, not other locations", async () => {
    expect(await prometheusFiring(url, { location: "drill" })).toEqual([
      "SuiteprobeMailFailing",
      "SuiteprobeProviderIncidentOpen",
    ]);
  });

  it("Alertmanager: active alerts of the drill's location and location-less ones", async () => {
    expect(await alertmanagerActive(url, { location: "drill" })).toEqual([
      "SuiteprobeMailFailing",
      "SuiteprobeProviderIncidentOpen",
    ]);
  });
});
