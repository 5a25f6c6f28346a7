/**
 * The 22 January 2026 Microsoft 365 outage (docs: ../shared/incident-2026-01-22.md, README) replayed as synthetic
 * series for `promtool test rules`: when must the suite-wide alert fire, and when must it resolve.
 */

/** Minutes after 13:30 US Eastern, the replay's time zero; 1-minute checks and evaluations. */
const at = (hhmm: string): number => {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  const minutes = h * 60 + m - (13 * 60 + 30);
  return minutes < 0 ? minutes + 24 * 60 : minutes;
};

/** Share of runs failing from a time on (piecewise constant). Assumed from the public timeline; see the file header. */
type Phases = readonly (readonly [from: string, failing: number])[];

const END = at("01:30");
// Reports spiked "early afternoon", before the 14:37 acknowledgement: we assume mail from 14:00, search 14:05 and
// chat 14:10, partial failure (some sends succeed), degraded through the rebalancing, improving after 21:46 and
// healthy after 01:05 when all infrastructure was declared healthy.
const NORTH_AMERICA: Record<"mail" | "search" | "chat", Phases> = {
  mail: [
    ["14:00", 0.5],
    ["16:14", 0.3],
    ["21:46", 0.1],
    ["01:05", 0],
  ],
  search: [
    ["14:05", 0.6],
    ["16:14", 0.4],
    ["21:46", 0.1],
    ["01:05", 0],
  ],
  chat: [
    ["14:10", 0.4],
    ["16:14", 0.3],
    ["21:46", 0.1],
    ["01:05", 0],
  ],
};

const CHECKS = {
  mail: {
    check: "exo-submission",
    kind: "smtp",
    target: "smtp.office365.com:587",
    class: "unavailable",
    code: "4.3.2",
    phase: "rcpt",
  },
  search: {
    check: "onedrive-search",
    kind: "drive_search",
    target: "graph.microsoft.com",
    class: "unavailable",
    code: "503",
    phase: "search",
  },
  chat: {
    check: "teams-chat",
    kind: "teams_chat",
    target: "graph.microsoft.com",
    class: "server_error",
    code: "500",
    phase: "create_chat",
  },
} as const;

function failingAt(phases: Phases, minute: number): number {
  let share = 0;
  for (const [from, failing] of phases) if (minute >= at(from)) share = failing;
  return share;
}

/** promtool's expanding notation for a counter growing by `increments[i]` at minute i+1. */
export function counterSeries(increments: readonly number[]): string {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const segments: string[] = [];
  let value = 0;
  let i = 0;
  let first = true;
  while (i < increments.length) {
    const step = increments[i]!;
    let n = 0;
    while (i + n < increments.length && increments[i + n] === step) n++;
    // The first segment starts at the initial 0; later ones at their first sample's value.
    const start = first ? value : round(value + step);
    const steps = first ? n : n - 1;
    segments.push(`${start}+${step}x${steps}`);
    value = round(value + step * n);
    i += n;
    first = false;
  }
  return segments.join(" ");
}

const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ")}}`;

function checkSeries(location: string, service: keyof typeof CHECKS, phases: Phases) {
  const c = CHECKS[service];
  const id = { check: c.check, kind: c.kind, target: c.target, location, provider: "microsoft365" };
  const minutes = Array.from({ length: END }, (_, i) => failingAt(phases, i + 1));
  return [
    { series: `probe_runs_total${labels({ ...id, result: "failure" })}`, values: counterSeries(minutes) },
    {
      series: `probe_runs_total${labels({ ...id, result: "success" })}`,
      values: counterSeries(minutes.map((f) => 1 - f)),
    },
    {
      series: `probe_errors_total${labels({ ...id, class: c.class, code: c.code, phase: c.phase, side: "provider" })}`,
      values: counterSeries(minutes),
    },
  ];
}

const incidentOpen = (from: string, to: string) => {
  const values = Array.from({ length: END + 1 }, (_, i) => (i >= at(from) && i < at(to) ? 1 : 0));
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let n = 0;
    while (i + n < values.length && values[i + n] === values[i]) n++;
    parts.push(`${values[i]}x${n - 1}`);
    i += n;
  }
  return parts.join(" ");
};

const SUITE = (location: string) => ({
  exp_labels: { provider: "microsoft365", location, severity: "critical", route: "provider" },
});
const regional = (service: keyof typeof CHECKS) => {
  const c = CHECKS[service];
  return {
    exp_labels: {
      check: c.check,
      kind: c.kind,
      target: c.target,
      location: "north-america",
      provider: "microsoft365",
      severity: "critical",
      route: "provider",
    },
  };
};
const minute = (hhmm: string) => `${at(hhmm)}m`;

/** The promtool unit-test file of the replay. */
export function incidentReplayTest(): object {
  const healthy: Phases = [["13:30", 0]];
  return {
    rule_files: ["rules.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        name: "22 January 2026: North America fails suite-wide, Europe stays healthy",
        interval: "1m",
        input_series: [
          ...(["mail", "search", "chat"] as const).flatMap((s) => checkSeries("north-america", s, NORTH_AMERICA[s])),
          ...(["mail", "search", "chat"] as const).flatMap((s) => checkSeries("europe", s, healthy)),
          {
            series: `provider_open_incidents${labels({ check: "m365-health", kind: "m365_service_health", target: "graph.microsoft.com", location: "europe", provider: "microsoft365", service: "Exchange Online", classification: "incident" })}`,
            values: incidentOpen("14:37", "01:05"),
          },
        ],
        alert_rule_test: [
          // Mail alone (14:00) is not suite-wide; search joins at 14:05 and both must hold 5 minutes.
          // Fires at 14:16, 21 minutes before Microsoft's 14:37 acknowledgement.
          { eval_time: minute("14:10"), alertname: "SuiteprobeSuiteWideProviderIncident", exp_alerts: [] },
          { eval_time: minute("14:15"), alertname: "SuiteprobeSuiteWideProviderIncident", exp_alerts: [] },
          {
            eval_time: minute("14:16"),
            alertname: "SuiteprobeSuiteWideProviderIncident",
            exp_alerts: [SUITE("north-america")],
          },
          {
            eval_time: minute("14:36"),
            alertname: "SuiteprobeSuiteWideProviderIncident",
            exp_alerts: [SUITE("north-america")],
          },
          // We see it before the provider says so; it clears once the provider's incident is open.
          { eval_time: minute("14:11"), alertname: "SuiteprobeUnacknowledgedProviderIncident", exp_alerts: [] },
          {
            eval_time: minute("14:12"),
            alertname: "SuiteprobeUnacknowledgedProviderIncident",
            exp_alerts: [
              {
                exp_labels: {
                  provider: "microsoft365",
                  location: "north-america",
                  severity: "warning",
                  route: "provider",
                },
              },
            ],
          },
          { eval_time: minute("14:45"), alertname: "SuiteprobeUnacknowledgedProviderIncident", exp_alerts: [] },
          // A provider-side failure from one region while Europe is healthy: regional provider, not local network.
          {
            eval_time: minute("14:30"),
            alertname: "SuiteprobeRegionalProviderIncident",
            exp_alerts: [regional("mail"), regional("search"), regional("chat")],
          },
          { eval_time: minute("14:30"), alertname: "SuiteprobeLocalNetworkFailure", exp_alerts: [] },
          { eval_time: minute("14:30"), alertname: "SuiteprobeMultiLocationFailure", exp_alerts: [] },
          // Slow rebalancing: still 30-40 % failing, still firing — one incident, no flapping.
          {
            eval_time: minute("21:40"),
            alertname: "SuiteprobeSuiteWideProviderIncident",
            exp_alerts: [SUITE("north-america")],
          },
          // 10 % failures after 21:46: search (15-minute window) and chat (30-minute window) are below the ratio by
          // about 21:54, mail earlier; resolved 15 minutes later (keep_firing_for).
          {
            eval_time: minute("22:05"),
            alertname: "SuiteprobeSuiteWideProviderIncident",
            exp_alerts: [SUITE("north-america")],
          },
          { eval_time: minute("22:12"), alertname: "SuiteprobeSuiteWideProviderIncident", exp_alerts: [] },
          { eval_time: minute("01:25"), alertname: "SuiteprobeSuiteWideProviderIncident", exp_alerts: [] },
        ],
      },
    ],
  };
}
