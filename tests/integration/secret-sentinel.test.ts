/**
 * The secret sentinel test (issue 8): every registered kind, through success and each failure path, at log_level
 * debug, against servers that echo back everything they receive, with secrets full of quotes, backslashes, non-ASCII
 * and spaces. No form of any secret may appear in anything the agent shows: stdout/stderr of `run`, `/metrics`, `/`,
 * `once` (table and --json), `check-config`, and a refused reload's response. A kind added to probes/index.ts
 * without scenarios here fails the first test.
 */
import { writeFile } from "node:fs/promises";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROBE_KINDS } from "../../probes/index.js";
import { eventually, exitOf, runCli, startCli, writeConfig, type CliResult } from "../helpers/cli.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { startMaildirSmtpServer, type MaildirSmtpServer } from "../helpers/maildir-smtp-server.js";
import { freePort } from "../helpers/net.js";
import { leaksIn } from "../helpers/sentinel.js";
import { startHttpSentinel } from "../helpers/sentinel-http.js";
import { defaultWorld, startSimulator } from "../../lab/sim/index.js";
import { startRawServer, type RawServer } from "../helpers/smtp-test-server.js";

const USER = "probe@example.test";
/** One secret per role, each with a quote, a backslash, non-ASCII and spaces. */
const SECRETS = {
  smtp: 'Sm"tp\\Sentinel ünï 17',
  imap: 'Im"ap\\Sentinel ëçà 29',
  token: 'To"ken\\Sentinel ßø 31',
  /** Printable ASCII: IMAP sends it as a quoted string (`"Qu\"oted\\…"`) rather than a literal. */
  quoted: 'Qu"oted\\Sentinel pw 43',
  /** Dovecot's password for the success paths (no `:` — passwd-file fields). */
  dovecot: 'Do"vecot\\Sentinel ïô 53',
};
const PAIRS = Object.values(SECRETS).flatMap((secret) => [
  { secret, user: USER },
  { secret, user: "probe" },
]);

type Expect = "success" | "auth" | "tls" | "timeout" | "protocol";
/** One check of the sentinel config: its YAML (under `checks:`) and the class `once` must report. */
interface Scenario {
  name: string;
  /** Its kind runs at most every few minutes and a check starts at a hashed phase of its interval: `run` may not
   * reach its first run within the test, so only `once` and `check-config` are sure to exercise it. */
  isSlowToStart?: boolean;
  expect: Expect;
  yaml: (ports: Ports) => string;
}
type Mode = "accept" | "echo" | "garbage";
interface Ports {
  /** The Microsoft 365 / Slack simulator, whose bot token and refresh token are sentinels. */
  sim: string;
  http: Record<Mode, number>;
  smtp: Record<Mode, number>;
  imap: Record<Mode, number>;
  tarpit: number;
  dovecot: number;
  maildirSmtp: number;
}

let secretDir: string;
const ref = (name: keyof typeof SECRETS): string => `"\${file:${join(secretDir, name)}}"`;
const PLAIN = "tls: none, allow_plaintext_auth: true";

const smtpCheck = (name: string, port: number, auth: string, extra = PLAIN, timeout = "2s") => `
  - name: ${name}
    kind: smtp
    target: 127.0.0.1:${port}
    timeout: ${timeout}
    smtp: { ${extra}, auth: ${auth}, mail_from: ${USER}, rcpt_to: ${USER} }`;
const imapCheck = (name: string, port: number, auth: string, extra = PLAIN, timeout = "2s") => `
  - name: ${name}
    kind: imap
    target: 127.0.0.1:${port}
    timeout: ${timeout}
    imap: { ${extra}, auth: ${auth}, search: { subject: "x", expect_min_results: 0 } }`;
const httpCheck = (name: string, url: string, http: string, timeout = "2s") => `
  - name: ${name}
    kind: http
    target: ${url}
    timeout: ${timeout}
    http: ${http}`;
const signinCheck = (name: string, credential: string, timeout = "2s") => `
  - name: ${name}
    kind: entra_signin
    timeout: ${timeout}
    entra_signin: { credential: ${credential} }`;
const entraCredentialAt = (name: string, authority: string, secret: keyof typeof SECRETS) => `
  ${name}:
    type: entra_client_secret
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    client_secret: ${ref(secret)}
    authority: ${authority}`;
const entraCredential = (name: string, port: number, secret: keyof typeof SECRETS) => `
  ${name}:
    type: entra_client_secret
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    client_secret: ${ref(secret)}
    authority: http://127.0.0.1:${port}`;
const refreshCredential = (name: string, authority: string) => `
  ${name}:
    type: entra_refresh_token
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    refresh_token_file: ${join(secretDir, `refresh-${name}`)}
    authority: ${authority}`;
const teamsCheck = (name: string, credential: string, graph: string) => `
  - name: ${name}
    kind: teams_chat
    timeout: 20s
    teams_chat: { credential: ${credential}, chat_id: "19:suiteprobe-probe@thread.v2", graph_url: "${graph}", max_delivery: 3s }`;
/** A Microsoft Graph kind's check: `block` is its settings besides credential and graph_url. */
const graphCheck = (name: string, kind: string, credential: string, graph: string, block: string, timeout = "4s") => `
  - name: ${name}
    kind: ${kind}
    timeout: ${timeout}
    ${kind}: { credential: ${credential}, graph_url: "${graph}", ${block} }`;
const SEARCH = "query: suiteprobe-canary, region: NAM, expect: { file_name: suiteprobe-canary.docx }";
const DRIVE = 'drive_id: "b!sim-drive-0001", query: suiteprobe-canary, expect: { file_name: suiteprobe-canary.docx }';
const HEALTH = "services: [Exchange Online]";
/** The three Graph scenarios: through the simulator; sign-in refused by an echoing token endpoint; a stalled API. */
const graphScenarios = (kind: string, block: string, isSlowToStart = false): Scenario[] =>
  [
    {
      name: `${kind}-ok`,
      expect: "success" as const,
      yaml: (p: Ports) => graphCheck(`${kind}-ok`, kind, "sim-app", p.sim, block),
    },
    {
      name: `${kind}-echo`,
      expect: "auth" as const,
      yaml: (p: Ports) => graphCheck(`${kind}-echo`, kind, "entra-echo", p.sim, block),
    },
    {
      name: `${kind}-timeout`,
      expect: "timeout" as const,
      yaml: (p: Ports) => graphCheck(`${kind}-timeout`, kind, "sim-app", `http://127.0.0.1:${p.tarpit}`, block, "1s"),
    },
  ].map((s) => ({ ...s, isSlowToStart }));
const statusCheck = (name: string, url: string, timeout = "2s") => `
  - name: ${name}
    kind: slack_status
    timeout: ${timeout}
    slack_status: { status_url: "${url}", services: [Messaging] }`;

const slackCheck = (name: string, slack: string, timeout = "15s") => `
  - name: ${name}
    kind: slack_chat
    interval: 30s
    timeout: ${timeout}
    slack_chat: { token: ${ref("token")}, channel: C0SIM0001, slack_url: "${slack}", max_delivery: 3s }`;

/** The credentials the HTTP scenarios sign in with: a bearer token and Entra apps against each server mode. */
const credentials = (p: Ports) => `
credentials:${refreshCredential("probe-user", p.sim)}${entraCredentialAt("sim-app", p.sim, "dovecot")}${refreshCredential("probe-user-echo", `http://127.0.0.1:${p.http.echo}`)}
  bearer-token: { type: bearer, token: ${ref("token")} }${entraCredential("entra-ok", p.http.accept, "smtp")}${entraCredential(
    "entra-echo",
    p.http.echo,
    "imap",
  )}${entraCredential("entra-garbage", p.http.garbage, "quoted")}${entraCredential("entra-tarpit", p.tarpit, "quoted")}
`;

const roundtripCheck = (name: string, submit: string, mailbox: string) => `
  - name: ${name}
    kind: mail_roundtrip
    timeout: 12s
    mail_roundtrip:
      submit: { ${submit}, mail_from: ${USER}, rcpt_to: ${USER} }
      mailbox: { ${mailbox} }
      max_delivery: 1500ms
      poll_interval: 100ms`;

const smtpPlain = () => `{ mechanism: plain, user: ${USER}, password: ${ref("smtp")} }`;
const smtpLogin = () => `{ mechanism: login, user: ${USER}, password: ${ref("smtp")} }`;
const smtpXoauth2 = () => `{ mechanism: xoauth2, user: ${USER}, token: ${ref("token")} }`;
const imapLogin = (secret: keyof typeof SECRETS = "imap", user = USER) =>
  `{ mechanism: login, user: ${user}, password: ${ref(secret)} }`;
const imapXoauth2 = () => `{ mechanism: xoauth2, user: ${USER}, token: ${ref("token")} }`;

/** Scenarios per kind id; every kind in PROBE_KINDS must have a success and failure scenarios here. */
const SCENARIOS: Record<string, Scenario[]> = {
  http: [
    {
      name: "http-ok",
      expect: "success",
      yaml: (p) => httpCheck("http-ok", `http://127.0.0.1:${p.http.accept}/api`, "{ credential: bearer-token }"),
    },
    {
      name: "http-echo",
      expect: "auth",
      yaml: (p) =>
        httpCheck(
          "http-echo",
          `http://127.0.0.1:${p.http.echo}/api`,
          `{ credential: bearer-token, headers: { X-Api-Key: ${ref("smtp")} } }`,
        ),
    },
    {
      name: "http-signed-in-echo",
      expect: "auth",
      yaml: (p) =>
        httpCheck("http-signed-in-echo", `http://127.0.0.1:${p.http.echo}/api`, "{ credential: entra-echo }"),
    },
    {
      name: "http-garbage",
      expect: "timeout",
      yaml: (p) =>
        httpCheck("http-garbage", `http://127.0.0.1:${p.tarpit}/api`, "{ credential: bearer-token }", "700ms"),
    },
  ],
  graph_search: graphScenarios("graph_search", SEARCH),
  drive_search: graphScenarios("drive_search", DRIVE),
  m365_service_health: graphScenarios("m365_service_health", HEALTH, true),
  slack_status: [
    { name: "status-ok", expect: "success", yaml: (p) => statusCheck("status-ok", `${p.sim}/api/v2.0.0`) },
    {
      name: "status-garbage",
      expect: "protocol",
      yaml: (p) => statusCheck("status-garbage", `http://127.0.0.1:${p.http.garbage}/api/v2.0.0`),
    },
    {
      name: "status-timeout",
      expect: "timeout",
      yaml: (p) => statusCheck("status-timeout", `http://127.0.0.1:${p.tarpit}/api/v2.0.0`, "700ms"),
    },
  ],
  slack_chat: [
    { name: "slack-ok", expect: "success", yaml: (p) => slackCheck("slack-ok", `${p.sim}/api`) },
    {
      name: "slack-echo",
      expect: "auth",
      yaml: (p) => slackCheck("slack-echo", `http://127.0.0.1:${p.http.echo}/api`),
    },
    {
      name: "slack-timeout",
      expect: "timeout",
      yaml: (p) => slackCheck("slack-timeout", `http://127.0.0.1:${p.tarpit}/api`, "13s"),
    },
  ],
  teams_chat: [
    {
      name: "teams-ok",
      expect: "success",
      isSlowToStart: true,
      yaml: (p) => teamsCheck("teams-ok", "probe-user", p.sim),
    },
    {
      name: "teams-echo",
      expect: "auth",
      isSlowToStart: true,
      yaml: (p) => teamsCheck("teams-echo", "probe-user-echo", p.sim),
    },
    {
      name: "teams-graph-echo",
      expect: "auth",
      isSlowToStart: true,
      yaml: (p) => teamsCheck("teams-graph-echo", "probe-user", `http://127.0.0.1:${p.http.echo}`),
    },
  ],
  entra_signin: [
    { name: "signin-ok", expect: "success", yaml: () => signinCheck("signin-ok", "entra-ok") },
    { name: "signin-echo", expect: "auth", yaml: () => signinCheck("signin-echo", "entra-echo") },
    { name: "signin-garbage", expect: "protocol", yaml: () => signinCheck("signin-garbage", "entra-garbage") },
    { name: "signin-timeout", expect: "timeout", yaml: () => signinCheck("signin-timeout", "entra-tarpit", "700ms") },
  ],
  smtp: [
    { name: "smtp-ok-plain", expect: "success", yaml: (p) => smtpCheck("smtp-ok-plain", p.smtp.accept, smtpPlain()) },
    { name: "smtp-ok-login", expect: "success", yaml: (p) => smtpCheck("smtp-ok-login", p.smtp.accept, smtpLogin()) },
    { name: "smtp-echo-plain", expect: "auth", yaml: (p) => smtpCheck("smtp-echo-plain", p.smtp.echo, smtpPlain()) },
    { name: "smtp-echo-login", expect: "auth", yaml: (p) => smtpCheck("smtp-echo-login", p.smtp.echo, smtpLogin()) },
    {
      name: "smtp-echo-xoauth2",
      expect: "auth",
      yaml: (p) => smtpCheck("smtp-echo-xoauth2", p.smtp.echo, smtpXoauth2()),
    },
    {
      name: "smtp-garbage",
      expect: "protocol",
      yaml: (p) => smtpCheck("smtp-garbage", p.smtp.garbage, smtpLogin()),
    },
    {
      name: "smtp-tls-failure",
      expect: "tls",
      yaml: (p) => smtpCheck("smtp-tls-failure", p.smtp.echo, smtpPlain(), "tls: implicit"),
    },
    {
      name: "smtp-timeout",
      expect: "timeout",
      yaml: (p) => smtpCheck("smtp-timeout", p.tarpit, smtpPlain(), PLAIN, "700ms"),
    },
  ],
  imap: [
    {
      name: "imap-ok-dovecot",
      expect: "success",
      yaml: (p) => imapCheck("imap-ok-dovecot", p.dovecot, imapLogin("dovecot", "probe")),
    },
    {
      name: "imap-ok-xoauth2",
      expect: "success",
      yaml: (p) => imapCheck("imap-ok-xoauth2", p.imap.accept, imapXoauth2()),
    },
    {
      name: "imap-echo-literal",
      expect: "auth",
      yaml: (p) => imapCheck("imap-echo-literal", p.imap.echo, imapLogin()),
    },
    {
      name: "imap-echo-quoted",
      expect: "auth",
      yaml: (p) => imapCheck("imap-echo-quoted", p.imap.echo, imapLogin("quoted")),
    },
    {
      name: "imap-echo-xoauth2",
      expect: "auth",
      yaml: (p) => imapCheck("imap-echo-xoauth2", p.imap.echo, imapXoauth2()),
    },
    {
      name: "imap-garbage",
      expect: "protocol",
      yaml: (p) => imapCheck("imap-garbage", p.imap.garbage, imapLogin("quoted")),
    },
    {
      name: "imap-tls-failure",
      expect: "tls",
      yaml: (p) => imapCheck("imap-tls-failure", p.imap.echo, imapLogin(), "tls: implicit"),
    },
    {
      name: "imap-timeout",
      expect: "timeout",
      yaml: (p) => imapCheck("imap-timeout", p.tarpit, imapLogin(), PLAIN, "700ms"),
    },
  ],
  mail_roundtrip: [
    {
      name: "rt-ok",
      expect: "success",
      yaml: (p) =>
        roundtripCheck(
          "rt-ok",
          `target: "127.0.0.1:${p.maildirSmtp}", tls: none`,
          `target: "127.0.0.1:${p.dovecot}", ${PLAIN}, auth: ${imapLogin("dovecot", "probe")}`,
        ),
    },
    {
      name: "rt-submit-echo",
      expect: "auth",
      yaml: (p) =>
        roundtripCheck(
          "rt-submit-echo",
          `target: "127.0.0.1:${p.smtp.echo}", ${PLAIN}, auth: ${smtpLogin()}`,
          `target: "127.0.0.1:${p.dovecot}", ${PLAIN}, auth: ${imapLogin("dovecot", "probe")}`,
        ),
    },
    {
      name: "rt-mailbox-echo",
      expect: "auth",
      yaml: (p) =>
        roundtripCheck(
          "rt-mailbox-echo",
          `target: "127.0.0.1:${p.smtp.accept}", ${PLAIN}, auth: ${smtpPlain()}`,
          `target: "127.0.0.1:${p.imap.echo}", ${PLAIN}, auth: ${imapLogin("quoted")}`,
        ),
    },
  ],
};

// ---- servers that echo what they receive ------------------------------------------------------------------------

/** Lines of a server socket; readline re-emits socket errors (a probe's reset), so they are swallowed here. */
function lines(socket: Socket): ReturnType<typeof createInterface> {
  const reader = createInterface({ input: socket, crlfDelay: Infinity });
  reader.on("error", () => undefined);
  return reader;
}

const b64decode = (text: string): string => Buffer.from(text, "base64").toString("utf8");

/** Scripted SMTP: `accept` takes any AUTH; `echo` refuses it, echoing the line and its decoding; `garbage` answers
 * the credentials with a non-SMTP line that echoes them. */
function smtpServer(mode: Mode): Promise<RawServer> {
  return startRawServer((socket) => {
    const say = (text: string) => !socket.destroyed && socket.write(`${text}\r\n`);
    say("220 sentinel.test ESMTP");
    let isInLogin = false;
    let isInData = false;
    const echo = (line: string): void => {
      if (mode === "accept") say("235 2.7.0 accepted");
      else if (mode === "garbage") say(`HELLO? you sent ${line} = ${b64decode(line.split(" ").at(-1) ?? "")}`);
      else {
        const payload = line.split(" ").at(-1) ?? "";
        const decoded = b64decode(payload);
        say(`535-5.7.8 you sent: ${line}`);
        say(`535-5.7.8 ${payload.slice(0, 9)}`);
        say(`535-5.7.8 ${payload.slice(9)}`);
        say(`535-5.7.8 decoded "${decoded.replace(/[\\"]/g, "\\$&")}"`);
        say(`535 5.7.8 ${JSON.stringify(decoded)} ${encodeURIComponent(decoded)}`);
      }
    };
    lines(socket).on("line", (line) => {
      if (isInData) {
        if (line === ".") {
          isInData = false;
          say("250 2.0.0 queued");
        }
        return;
      }
      if (isInLogin) {
        if (line === Buffer.from(USER).toString("base64")) return void say("334 UGFzc3dvcmQ6");
        isInLogin = false;
        return echo(line);
      }
      const verb = line.split(" ")[0]?.toUpperCase();
      if (verb === "EHLO") say("250-sentinel.test\r\n250 AUTH PLAIN LOGIN XOAUTH2");
      else if (verb === "AUTH" && line.split(" ").length === 2) {
        isInLogin = true;
        say("334 VXNlcm5hbWU6");
      } else if (verb === "AUTH") echo(line);
      else if (verb === "DATA") {
        isInData = true;
        say("354 go on");
      } else if (verb === "QUIT") say("221 bye");
      else if (verb === "") say("535 5.7.8 empty response");
      else say(`250 ok ${line}`);
    });
  });
}

/** Scripted IMAP: `accept` takes any login and has an empty INBOX; `echo` refuses with NO echoing every byte it
 * got (literals included); `garbage` answers the login with an untagged garbage line and a bad tag, echoing too. */
function imapServer(mode: Mode): Promise<RawServer> {
  return startRawServer((socket: Socket) => {
    const say = (text: string) => !socket.destroyed && socket.write(`${text}\r\n`);
    say("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=PLAIN] sentinel ready");
    let pending = "";
    lines(socket).on("line", (line) => {
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal !== null) {
        pending += `${line}\n`;
        return void say("+ go ahead");
      }
      const whole = pending + line;
      pending = "";
      const tag = whole.split(" ")[0] ?? "*";
      const verb = whole.split(" ")[1]?.toUpperCase();
      const isAuth = verb === "LOGIN" || verb === "AUTHENTICATE";
      if (isAuth && mode === "echo") {
        const [first = "", ...rest] = whole.split("\n");
        say(`* NO you sent: ${first}`);
        if (rest.length > 0) say(`* NO ${rest.join(" ")}`);
        return void say(`${tag} NO [AUTHENTICATIONFAILED] ${whole.replace(/\n/g, " ")}`);
      }
      if (isAuth && mode === "garbage") return void say(`%%% ${whole.replace(/\n/g, " ")}\r\nZ99 OK ${whole}`);
      switch (verb) {
        case "LOGIN":
        case "AUTHENTICATE":
          return void say(`${tag} OK [CAPABILITY IMAP4rev1 UIDPLUS] logged in`);
        case "CAPABILITY":
          say("* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2");
          return void say(`${tag} OK done`);
        case "EXAMINE":
        case "SELECT":
          return void say(`* 0 EXISTS\r\n* OK [UIDVALIDITY 1] v\r\n* OK [UIDNEXT 1] n\r\n${tag} OK [READ-ONLY] done`);
        case "UID":
          return void say(`* SEARCH\r\n${tag} OK done`);
        case "LOGOUT":
          return void say(`* BYE bye\r\n${tag} OK done`);
        default:
          return void say(`${tag} BAD unknown ${whole}`);
      }
    });
  });
}

// ---- the test ---------------------------------------------------------------------------------------------------

const servers: { close(): Promise<void> }[] = [];
let dovecot: TestDovecot;
let configPath: string;
let scenarios: Scenario[];
let ports: Ports;

beforeAll(async () => {
  secretDir = mkdtempSync(join(tmpdir(), "sp-sentinel-"));
  for (const [name, value] of Object.entries(SECRETS)) writeFileSync(join(secretDir, name), value, { mode: 0o600 });
  dovecot = await startDovecot();
  // The passwd-file is re-read when it changes: the mailbox password becomes a sentinel too.
  await writeFile(join(dovecot.dir, "passwd"), `${dovecot.user}:{PLAIN}${SECRETS.dovecot}\n`);
  const maildir: MaildirSmtpServer = await startMaildirSmtpServer(dovecot.folderDir());
  servers.push(maildir);
  const start = async (
    make: (mode: Mode) => Promise<{ port: number; close(): Promise<void> }>,
  ): Promise<Record<Mode, number>> => {
    const out = {} as Record<Mode, number>;
    for (const mode of ["accept", "echo", "garbage"] as const) {
      const server = await make(mode);
      servers.push(server);
      out[mode] = server.port;
    }
    return out;
  };
  const tarpit = await startRawServer(() => undefined);
  servers.push(tarpit);
  const world = defaultWorld();
  const bot = world.slack.bots[0];
  if (bot !== undefined) bot.token = SECRETS.token;
  const app = world.apps[0];
  if (app !== undefined) app.secret = SECRETS.dovecot;
  const refresh = world.refreshTokens[0];
  if (refresh !== undefined) refresh.token = SECRETS.imap;
  const sim = await startSimulator({ world });
  servers.push(sim);
  for (const name of ["probe-user", "probe-user-echo"]) {
    writeFileSync(join(secretDir, `refresh-${name}`), SECRETS.imap, { mode: 0o600 });
  }
  ports = {
    sim: sim.url,
    http: await start(startHttpSentinel),
    smtp: await start(smtpServer),
    imap: await start(imapServer),
    tarpit: tarpit.port,
    dovecot: dovecot.port,
    maildirSmtp: maildir.port,
  };
  scenarios = Object.values(SCENARIOS).flat();
  configPath = writeConfig(sentinelConfig(await freePort()));
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await dovecot?.dispose();
});

function sentinelConfig(listenPort: number): string {
  return `agent: { listen: "127.0.0.1:${listenPort}", log_level: debug, location: sentinel }
defaults: { interval: 13s }${credentials(ports)}
checks:${scenarios.map((s) => s.yaml(ports)).join("")}
`;
}

function expectNoLeak(where: string, text: string): void {
  expect(text.length, `${where} printed nothing`).toBeGreaterThan(0);
  expect(leaksIn(text, PAIRS), where).toEqual([]);
}

describe("secret sentinel: no form of any secret in anything the agent shows", () => {
  it("has a success and at least two failure scenarios for every registered kind", () => {
    for (const kind of PROBE_KINDS) {
      const mine = SCENARIOS[kind.id] ?? [];
      expect(
        mine.some((s) => s.expect === "success"),
        `${kind.id} has no success scenario`,
      ).toBe(true);
      expect(mine.filter((s) => s.expect !== "success").length, `${kind.id} failure scenarios`).toBeGreaterThanOrEqual(
        2,
      );
    }
    expect(Object.keys(SCENARIOS).sort()).toEqual(PROBE_KINDS.map((k) => k.id).sort());
  });

  it("check-config", async () => {
    const result = await runCli(["check-config", "--config", configPath]);
    expect(result.code).toBe(0);
    expectNoLeak("check-config", result.stdout + result.stderr);
  });

  it("once (table) and once --json, each scenario on its path, at log_level debug", async () => {
    const table = await runCli(["once", "--config", configPath], { timeoutMs: 60_000 });
    const json = await runCli(["once", "--config", configPath, "--json"], { timeoutMs: 60_000 });
    const outcomes = new Map(
      json.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { check: string; success: boolean; class?: string })
        .map((o) => [o.check, o]),
    );
    for (const s of scenarios) {
      const outcome = outcomes.get(s.name);
      expect(outcome, s.name).toBeDefined();
      expect(outcome?.success ? "success" : outcome?.class, s.name).toBe(s.expect);
    }
    // Debug logging was on: the sessions' command lines were logged (where a leak would have been).
    expect(table.stderr).toContain('"smtp command"');
    expectNoLeak("once table", table.stdout + table.stderr);
    expectNoLeak("once --json", json.stdout + json.stderr);
  }, 120_000);

  it("run: stdout/stderr, /metrics, / and a refused reload's response", async () => {
    const listenPort = await freePort();
    const path = writeConfig(sentinelConfig(listenPort));
    const help = await runCli(["run", "--help"]);
    // The lifecycle flag gates POST /-/reload where the CLI has it (web-config work in parallel).
    const lifecycle = `${help.stdout}${help.stderr}`.includes("--web.enable-lifecycle")
      ? ["--web.enable-lifecycle"]
      : [];
    const agent = startCli(["run", "--config", path, ...lifecycle]);
    const base = `http://127.0.0.1:${listenPort}`;
    try {
      // Every check has run once (first runs are spread over up to the 13 s interval).
      const metrics = await eventually(async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const due = scenarios.filter((s) => s.isSlowToStart !== true);
        const runs = due.filter((s) =>
          new RegExp(`probe_runs_total\\{[^}]*check="${s.name}"[^}]*\\} [1-9]`).test(text),
        );
        return runs.length === due.length ? text : undefined;
      }, 45_000);
      const page = await (await fetch(`${base}/`)).text();
      expect(page).toContain("smtp-echo-login");
      // A refused reload: a config that still names every secret reference, plus an error.
      await writeFile(path, `${sentinelConfig(listenPort)}  - { name: broken, kind: smtp, target: "a:b:c" }\n`);
      const reload = await fetch(`${base}/-/reload`, { method: "POST" });
      const reloadBody = `${reload.status} ${await reload.text()}`;
      expect(reload.status).toBeGreaterThanOrEqual(400);
      expectNoLeak("/metrics", metrics);
      expectNoLeak("/", page);
      expectNoLeak("reload response", reloadBody);
    } finally {
      agent.child.kill("SIGTERM");
      await exitOf(agent.child);
    }
    const logs: CliResult = { code: 0, ...agent.output };
    expect(logs.stdout).toContain('"smtp command"');
    expectNoLeak("run stdout/stderr", logs.stdout + logs.stderr);
  }, 90_000);
});
