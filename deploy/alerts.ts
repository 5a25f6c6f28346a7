/** THE alert definitions. `npm run deploy:gen` turns them into Prometheus, Grafana and Kubernetes rules and the runbook. */
import type { AlertDefinition } from "./alert-model.js";
import {
  CHECK_LABELS,
  FAILING_RATIO,
  JOB,
  MIN_FAILED_RUNS,
  RATIO_WINDOW,
  errorRatio,
  failureRatio,
  isFailing,
  p90,
  sel,
  withRoute,
} from "./promql.js";
import { SERVICES, kindMatcher, windowOf, type Service } from "./services.js";

/** Locations that must see the same check failing before it counts as failing everywhere (the N of "N of M"). */
export const MIN_FAILING_LOCATIONS = 2;

const L = CHECK_LABELS.join(", ");
const SAME_CHECK = "check, kind, target, provider";
const service = (id: Service["id"]): Service => SERVICES.find((s) => s.id === id)!;
const mail = kindMatcher(service("mail"));
/** Provider-side errors that point at an incident: a throttle (429, 4.7.x rate limit) is the provider asking the
 * probe to slow down, not the provider failing. */
const PROVIDER_FAULT = 'side="provider", class!="throttled"';
const pct = (ratio: number) => `${Math.round(ratio * 100)} %`;

const ratioRationale = (window: string) =>
  `More than ${pct(FAILING_RATIO)} of the runs in ${window} and at least ${MIN_FAILED_RUNS} failed runs: ` +
  `one failed run never fires, and a check flapping 1 in 10 (10 %) stays well below. 22 January 2026 was partial — ` +
  `some sends succeeded for hours — so the rule looks at a ratio, not at probe_success. The condition must hold ` +
  `5 minutes and the alert keeps firing 10 minutes after it clears, so an uneven recovery does not page twice.`;

const ROUTE_TEXT =
  "The `side` label is the side of more than half of the failed runs (`mixed` when none has a majority) and " +
  "`route` says who acts: `provider` → open a ticket with the provider; `network` → the location's network team; " +
  "`owner` (config, auth, unknown or mixed) → the team owning the check (wrong password, expired secret, policy).";

function serviceFailing(s: Service): AlertDefinition {
  const m = kindMatcher(s);
  const window = windowOf(s);
  return {
    name: s.alert,
    group: "suiteprobe-services",
    value: withRoute(failureRatio(m, window), m, window),
    op: ">",
    threshold: FAILING_RATIO,
    for: "5m",
    keepFiringFor: "10m",
    severity: s.severity,
    labels: { service: s.id },
    valueFormat: "percent",
    summary: `${s.title} check {{ $labels.check }} failing from {{ $labels.location }} ({{VALUE}} of runs)`,
    description:
      `{{VALUE}} of the runs of {{ $labels.check }} ({{ $labels.kind }} → {{ $labels.target }}) from ` +
      `{{ $labels.location }} failed in the last ${window}; most failures are {{ $labels.side }}-side, ` +
      `route {{ $labels.route }}.`,
    runbook: {
      meaning: `${s.title} checks (${s.kinds.map((k) => `\`${k}\``).join(", ")}) fail persistently. ${ROUTE_TEXT}`,
      thresholds:
        ratioRationale(window) +
        (s.window === undefined
          ? ""
          : ` The window is ${window}, not ${RATIO_WINDOW}: these kinds run at most every 5 minutes, so 15 minutes ` +
            `would hold only 3 runs.`),
      actions: [
        "Open the dashboard's error panel for the check: which class and code, which phase.",
        "`route=owner`: fix the credential or config (`suiteprobe once --check NAME` shows the failure at once).",
        "`route=provider`: look at the provider's status page and open a ticket with the codes and times from the dashboard.",
        "`route=network`: compare with other locations (SuiteprobeLocalNetworkFailure) and call the location's network team.",
      ],
    },
    kinds: s.kinds,
  };
}

/** Every alert suiteprobe ships. */
export const ALERTS: readonly AlertDefinition[] = [
  ...SERVICES.map(serviceFailing),
  {
    name: "SuiteprobeMailTemporaryErrors",
    group: "suiteprobe-services",
    value: errorRatio(mail, 'class=~"unavailable|throttled"', "code=~`4[0-9][0-9]|4\\.[0-9]{1,3}\\.[0-9]{1,3}`"),
    op: ">",
    threshold: 0.15,
    for: "10m",
    keepFiringFor: "10m",
    severity: "warning",
    route: "provider",
    labels: { service: "mail" },
    valueFormat: "percent",
    summary: "Mail provider answers {{ $labels.check }} with temporary errors ({{VALUE}} of runs)",
    description:
      "{{VALUE}} of the runs of {{ $labels.check }} from {{ $labels.location }} were refused with a temporary " +
      `error (class unavailable/throttled or a 4xx / 4.x.x code such as 451 4.3.2) in the last ${RATIO_WINDOW}.`,
    runbook: {
      meaning:
        "The mail provider is refusing mail for now (451 4.3.2 `temporary server issue` on 22 January 2026, 421, " +
        "4.7.x throttling). Senders' servers retry, so users see delays before they see bounces.",
      thresholds:
        `More than 15 % of runs in ${RATIO_WINDOW} (at least ${MIN_FAILED_RUNS} such errors) for 10 minutes: lower ` +
        "than the general failing ratio because temporary refusals are the earliest sign of a provider incident, " +
        "held longer because single 4xx replies are normal on the internet.",
      actions: [
        "Check the code on the dashboard: 4.3.2 / 451 → provider capacity; 4.7.x / 421 throttling → also check our send rate.",
        "Open a provider ticket with the first failure time and codes; watch SuiteprobeSuiteWideProviderIncident.",
      ],
    },
    kinds: service("mail").kinds,
  },
  {
    name: "SuiteprobeMailSlow",
    group: "suiteprobe-services",
    value: p90("probe_mail_delivery_seconds", mail, "30m"),
    op: ">",
    threshold: 120,
    for: "15m",
    severity: "warning",
    route: "provider",
    labels: { service: "mail" },
    valueFormat: "duration",
    summary: "Mail round trip {{ $labels.check }} slow from {{ $labels.location }} (p90 {{VALUE}})",
    description:
      "The 90th percentile of submission-to-mailbox time of {{ $labels.check }} over 30 minutes is {{VALUE}}. " +
      "Messages that miss their deadline are counted in probe_mail_late_total and fail the run (class delivery).",
    runbook: {
      meaning: "Mail arrives, but late: users see delays, and mail that depends on it (codes, invitations) is stale.",
      thresholds:
        "p90 over 2 minutes across 30 minutes, held 15 minutes: normal delivery is seconds; 30 minutes of " +
        "round trips smooths one slow message, and the delivery deadline catches messages that never arrive.",
      actions: [
        "Look at the delivery heatmap: a shift of the whole band is the provider; single outliers are not.",
        "Check probe_mail_junked_total: junk filtering also delays visibility.",
      ],
    },
    kinds: ["mail_roundtrip"],
  },
  {
    name: "SuiteprobeSearchIndexLag",
    group: "suiteprobe-services",
    value: `max by (${L}) (probe_search_index_lag_seconds{${kindMatcher(service("search"))}})`,
    op: ">",
    threshold: 1800,
    for: "15m",
    severity: "warning",
    route: "provider",
    labels: { service: "search" },
    valueFormat: "duration",
    summary: "File search index of {{ $labels.check }} is {{VALUE}} behind",
    description: "A file written by the probe took {{VALUE}} or more to become findable ({{ $labels.location }}).",
    runbook: {
      meaning: "Search works but does not find recent files: users think their files are lost.",
      thresholds: "30 minutes of index lag for 15 minutes: Microsoft documents minutes to tens of minutes as normal.",
      actions: ["Compare with other tenants/locations; open a provider ticket if it persists."],
    },
    kinds: service("search").kinds,
  },
  {
    name: "SuiteprobeChatSlow",
    group: "suiteprobe-services",
    value: p90("probe_chat_delivery_seconds", kindMatcher(service("chat")), "30m"),
    op: ">",
    threshold: 60,
    for: "15m",
    severity: "warning",
    route: "provider",
    labels: { service: "chat" },
    valueFormat: "duration",
    summary: "Chat messages of {{ $labels.check }} slow from {{ $labels.location }} (p90 {{VALUE}})",
    description: "The 90th percentile of post-to-visible time over 30 minutes is {{VALUE}}.",
    runbook: {
      meaning: "Chat messages arrive late: conversations stall before anything fails outright.",
      thresholds: "p90 over 60 s across 30 minutes, held 15 minutes: chat delivery is normally under a few seconds.",
      actions: ["Check the chat heatmap and the provider's status; open a ticket if it persists."],
    },
    kinds: service("chat").kinds,
  },
  {
    name: "SuiteprobeSuiteWideProviderIncident",
    group: "suiteprobe-incidents",
    value:
      `sum by (provider, location) (max by (provider, location, service) (` +
      SERVICES.filter((s) => s.isUserFacing)
        .map(
          (s) =>
            `label_replace(${isFailing(sel(kindMatcher(s), 'provider!=""'), windowOf(s))}, "service", "${s.id}", "", "")`,
        )
        .join(" or ") +
      `))`,
    op: ">",
    threshold: 1,
    for: "5m",
    keepFiringFor: "15m",
    severity: "critical",
    route: "provider",
    valueFormat: "number",
    summary: "{{VALUE}} services of {{ $labels.provider }} failing together from {{ $labels.location }}",
    description:
      "Checks of {{VALUE}} different services (mail, sign-in, search, chat) of provider {{ $labels.provider }} " +
      `fail from {{ $labels.location }} (each: more than ${pct(FAILING_RATIO)} of runs in ${RATIO_WINDOW}, ` +
      `${windowOf(service("chat"))} for chat). ` +
      "Several services failing at once from one vantage point is the provider, not one mailbox or password.",
    runbook: {
      meaning:
        "A provider incident affecting its whole suite, as on 22 January 2026 (Outlook, OneDrive search and Teams " +
        "together). This is the page that should go out before the provider acknowledges anything.",
      thresholds:
        "Two or more user-facing services, each failing by the ratio rule, for 5 minutes; keeps firing 15 minutes " +
        "after it clears because recoveries are uneven (22 January: 7+ hours of rebalancing). The replay test " +
        "(deploy/prometheus/tests/incident-2026-01-22.test.yml) shows it firing at 14:16 for mail failures from 14:00 and search from 14:05, " +
        "before Microsoft's 14:37 acknowledgement.",
      actions: [
        "Tell the service desk now: users will call. Use the dashboard's times as evidence.",
        "Open a provider ticket; see whether other locations are healthy (a regional incident).",
        "Watch SuiteprobeProviderIncidentOpen for the provider's acknowledgement.",
      ],
    },
    kinds: SERVICES.filter((s) => s.isUserFacing).flatMap((s) => s.kinds),
  },
  {
    name: "SuiteprobeMultiLocationFailure",
    group: "suiteprobe-incidents",
    value: `sum by (${SAME_CHECK}) (${isFailing("")})`,
    op: ">",
    threshold: MIN_FAILING_LOCATIONS - 1,
    for: "5m",
    keepFiringFor: "10m",
    severity: "critical",
    route: "provider",
    valueFormat: "number",
    summary: "{{ $labels.check }} failing from {{VALUE}} locations",
    description:
      `{{ $labels.check }} ({{ $labels.kind }} → {{ $labels.target }}) fails from {{VALUE}} locations at once ` +
      `(threshold ${MIN_FAILING_LOCATIONS}): the fault is at the target, not at one location's network.`,
    runbook: {
      meaning: "The same check fails from several vantage points: the provider (or the target) is at fault.",
      thresholds:
        `At least ${MIN_FAILING_LOCATIONS} locations (change MIN_FAILING_LOCATIONS in deploy/alerts.ts and run ` +
        "`npm run deploy:gen`), each failing by the ratio rule, for 5 minutes. With M locations, N = 2 catches a " +
        "regional incident seen by two agents in that region; raise N towards M/2 for a global-only signal.",
      actions: ["Open a provider ticket with the list of locations and first failure times."],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeRegionalProviderIncident",
    group: "suiteprobe-incidents",
    value:
      `${errorRatio("", PROVIDER_FAULT)} * on (${SAME_CHECK}) group_left () ` +
      `(sum by (${SAME_CHECK}) (1 - ${isFailing("")}) >= bool 1)`,
    op: ">",
    threshold: FAILING_RATIO,
    for: "5m",
    keepFiringFor: "10m",
    severity: "critical",
    route: "provider",
    valueFormat: "percent",
    summary: "Regional provider incident: {{ $labels.check }} fails from {{ $labels.location }} only",
    description:
      "{{VALUE}} of the runs of {{ $labels.check }} from {{ $labels.location }} failed with provider-side errors " +
      "(e.g. 451 4.3.2, 503) while other locations see it healthy: the provider's infrastructure in that region.",
    runbook: {
      meaning:
        "A provider-side failure seen from one location while another location is fine: a regional provider " +
        "incident — 22 January 2026 was North America only, and an agent in Europe saw nothing. It is not the " +
        "location's network: network faults have network-side classes (dns, connect, tls, timeout).",
      thresholds: `Provider-side failures (throttling excluded) above ${pct(FAILING_RATIO)} of runs in ${RATIO_WINDOW} (at least ${MIN_FAILED_RUNS}) at the location, at least one other location healthy, for 5 minutes.`,
      actions: [
        "Open a provider ticket naming the region; users in that region are affected, others are not.",
        "Needs two or more locations; with one, SuiteprobeMailFailing etc. fire with route=provider instead.",
      ],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeLocalNetworkFailure",
    group: "suiteprobe-incidents",
    value:
      `${errorRatio("", 'side="network"')} * on (${SAME_CHECK}) group_left () ` +
      `(sum by (${SAME_CHECK}) (${isFailing("")}) < bool ${MIN_FAILING_LOCATIONS})`,
    op: ">",
    threshold: FAILING_RATIO,
    for: "5m",
    keepFiringFor: "10m",
    severity: "warning",
    route: "network",
    valueFormat: "percent",
    summary: "Network problem at {{ $labels.location }}: {{ $labels.check }} unreachable from there only",
    description:
      "{{VALUE}} of the runs of {{ $labels.check }} from {{ $labels.location }} failed with network-side errors " +
      "(dns, connect, tls, timeout) and the check is not failing from other locations.",
    runbook: {
      meaning:
        "This location cannot reach the target; users elsewhere are probably fine. Call the location's network team.",
      thresholds: `Network-side failures above ${pct(FAILING_RATIO)} of runs in ${RATIO_WINDOW} (at least ${MIN_FAILED_RUNS}), failing from fewer than ${MIN_FAILING_LOCATIONS} locations, for 5 minutes.`,
      actions: [
        "Check DNS, proxy and firewall at the location (`suiteprobe once --check NAME` from the agent's host).",
        "If other locations start failing too, SuiteprobeMultiLocationFailure takes over.",
      ],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeProviderIncidentOpen",
    group: "suiteprobe-incidents",
    value: "max by (provider, service, classification) (provider_open_incidents)",
    op: ">",
    threshold: 0,
    for: "1m",
    severity: "info",
    route: "provider",
    valueFormat: "number",
    summary: "{{ $labels.provider }} reports {{VALUE}} open {{ $labels.classification }} on {{ $labels.service }}",
    description: "The provider's health API lists an open {{ $labels.classification }} for {{ $labels.service }}.",
    runbook: {
      meaning: "The provider says something is wrong. Compare with our own detections on the dashboard.",
      thresholds: "Any open incident or advisory for a minute; info only, it pages nobody by itself.",
      actions: ["Link the provider's incident id in your own ticket; tell the service desk if users are affected."],
    },
    kinds: service("provider_health").kinds,
  },
  {
    name: "SuiteprobeUnacknowledgedProviderIncident",
    group: "suiteprobe-incidents",
    value:
      `(sum by (provider, location) (${errorRatio('provider!=""', PROVIDER_FAULT)} > bool ${FAILING_RATIO}) ` +
      `unless on (provider) (max by (provider) (provider_open_incidents) > 0))`,
    op: ">",
    threshold: 0,
    for: "5m",
    severity: "warning",
    route: "provider",
    valueFormat: "number",
    summary: "We see {{ $labels.provider }} failing from {{ $labels.location }}; the provider reports nothing yet",
    description:
      "{{VALUE}} checks of {{ $labels.provider }} fail with provider-side errors from {{ $labels.location }} and " +
      "the provider's health API has no open incident (or no health check of it is configured).",
    runbook: {
      meaning:
        "We see it, the provider does not say so yet — the 14:05-to-14:37 gap of 22 January. Our evidence is " +
        "the only evidence; the provider's status page may not even load.",
      thresholds: `Any check with provider-side failures (throttling excluded) above ${pct(FAILING_RATIO)} of runs, no open provider incident, for 5 minutes; resolves when the provider acknowledges. In the 22 January replay it fires at 14:12 and clears at the 14:37 acknowledgement.`,
      actions: [
        "Open a provider ticket with our first failure time and codes: it may be what makes them look.",
        "Tell the service desk; do not wait for the provider's status page.",
      ],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeAgentDown",
    group: "suiteprobe-agent",
    value: `up{job="${JOB}"}`,
    op: "<",
    threshold: 1,
    for: "5m",
    severity: "warning",
    route: "owner",
    valueFormat: "number",
    summary: "suiteprobe agent {{ $labels.instance }} is down or not scraped",
    description: "Prometheus cannot scrape {{ $labels.instance }}: no checks run or report from there.",
    runbook: {
      meaning: "A vantage point is blind. During an incident this hides evidence; it is not itself a user outage.",
      thresholds: "5 minutes of failed scrapes: longer than a restart or a rolling update.",
      actions: ["Check the pod/container (`/healthz`), its logs and the scrape target page in Prometheus."],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeAgentMissing",
    group: "suiteprobe-agent",
    value: `count(up{job="${JOB}"}) or vector(0)`,
    op: "<",
    threshold: 1,
    for: "10m",
    severity: "warning",
    route: "owner",
    valueFormat: "number",
    summary: `No suiteprobe target in Prometheus (job ${JOB})`,
    description: `Prometheus has no target with job="${JOB}": service discovery or scrape config lost the agents.`,
    runbook: {
      meaning: "Nothing is monitored and no other suiteprobe alert can fire.",
      thresholds: "10 minutes without any target, to ride over Prometheus restarts and config reloads.",
      actions: ["Check the ServiceMonitor / scrape_configs and that the agents run."],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeCheckStopped",
    group: "suiteprobe-agent",
    value:
      `(time() - max by (${L}) (probe_last_run_timestamp_seconds)) / clamp_min(max by (${L}) (` +
      `(max_over_time(probe_last_run_timestamp_seconds[6h]) - min_over_time(probe_last_run_timestamp_seconds[6h])) ` +
      `/ clamp_min(changes(probe_last_run_timestamp_seconds[6h]), 1)), 100) ` +
      // A check held back by throttling is not stopped; SuiteprobeCheckThrottled covers it.
      `unless on (${L}) (max by (${L}) (probe_throttled) > 0)`,
    op: ">",
    threshold: 3,
    for: "10m",
    severity: "warning",
    route: "owner",
    valueFormat: "number",
    summary:
      "Check {{ $labels.check }} at {{ $labels.location }} stopped running ({{VALUE}} intervals since its last run)",
    description:
      "The agent is scraped but {{ $labels.check }} has not finished a run for {{VALUE}} times its usual interval.",
    runbook: {
      meaning: "A check is silently not running (stuck scheduler, a run that never ends): its alerts cannot fire.",
      thresholds:
        "More than 3 usual intervals (estimated from the last 6 hours of run timestamps, at least 100 s) for " +
        "10 minutes. A brand-new check with an interval over ~5 minutes has no estimate until its second run and " +
        "may fire once in between.",
      actions: ["Look at suiteprobe_scheduler_lag_seconds and the agent's log; restart the agent if runs hang."],
    },
    kinds: "*",
  },
  {
    name: "SuiteprobeCheckThrottled",
    group: "suiteprobe-agent",
    value: `max by (${L}) (probe_throttled)`,
    op: ">",
    threshold: 0,
    for: "30m",
    severity: "warning",
    route: "owner",
    valueFormat: "number",
    summary: "Check {{ $labels.check }} at {{ $labels.location }} held back by throttling for 30 minutes",
    description:
      "The provider throttled {{ $labels.check }} (Retry-After) and its runs are skipped " +
      '(suiteprobe_runs_skipped_total{reason="throttled"}): the check is blind while held.',
    runbook: {
      meaning: "Our own probing hits the provider's rate limits; the check reports nothing while held.",
      thresholds:
        "Held for 30 minutes: short holds are normal API behaviour, long ones mean the interval is too short.",
      actions: ["Raise the check's interval or use a dedicated app registration / token for probing."],
    },
    kinds: [
      "entra_signin",
      "graph_search",
      "drive_search",
      "teams_chat",
      "slack_chat",
      "m365_service_health",
      "slack_status",
    ],
  },
  {
    name: "SuiteprobeCertificateExpiring",
    group: "suiteprobe-agent",
    value: `min by (${L}) (probe_ssl_earliest_cert_expiry) - time()`,
    op: "<",
    threshold: 14 * 86400,
    for: "1h",
    severity: "warning",
    route: "owner",
    valueFormat: "duration",
    summary: "Certificate of {{ $labels.target }} expires in {{VALUE}}",
    description: "The earliest certificate in the chain {{ $labels.check }} saw expires in {{VALUE}}.",
    runbook: {
      meaning:
        "When it expires every TLS client fails (class tls). Provider endpoints renew themselves; yours may not.",
      thresholds: "14 days, held an hour: enough time for a change window; an hour filters a failover to an old host.",
      actions: [
        "Your own endpoint: renew and deploy. A provider's: note it and watch; they normally rotate days ahead.",
      ],
    },
    kinds: ["smtp", "imap", "mail_roundtrip", "http"],
  },
  {
    name: "SuiteprobeConfigReloadFailing",
    group: "suiteprobe-agent",
    value: "min by (job, instance) (suiteprobe_config_last_reload_successful)",
    op: "<",
    threshold: 1,
    for: "10m",
    severity: "warning",
    route: "owner",
    valueFormat: "number",
    summary: "suiteprobe {{ $labels.instance }} rejected its new config",
    description: "The last config reload failed; the agent keeps running the previous config.",
    runbook: {
      meaning: "Someone changed the config and the change is not live. Nothing is broken yet; the next restart may be.",
      thresholds: "10 minutes, so a quick fix after a typo does not page.",
      actions: ["`suiteprobe check-config --config FILE` prints every problem as `path: message`; fix and reload."],
    },
    kinds: "*",
  },
];
