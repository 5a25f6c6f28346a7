#!/usr/bin/env node
/* eslint-disable no-console -- the CLI's output code */
import type { Logger } from "pino";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { Registry } from "prom-client";
import { PROBE_KINDS } from "../probes/index.js";
import { credentialFamilyOf } from "./core/credentials.js";
import { collectFacts, factRecord } from "./core/facts.js";
import type { AnyProbeKind } from "./core/probe.js";
import { CredentialSet } from "./runtime/credentials.js";
import { NO_SHARD, parseShard, selectShard, type Shard } from "./runtime/shard.js";
import { proxyForUrl } from "../probes/wire/http/proxy.js";
import { Agent } from "./agent.js";
import { runClassifyCommand } from "./classify-command.js";
import { loadConfigFile } from "./config/load.js";
import type { AgentConfig } from "./config/model.js";
import { connectionCap, DEFAULT_MAX_CONNECTIONS, defaultLimits, openFileLimit } from "./server/limits.js";
import { createHttpServer, listen } from "./server/server.js";
import { loadWebConfigFile, OPEN_WEB_CONFIG, type WebConfig } from "./server/web-config.js";
import { createLogger } from "./logging.js";
import { Metrics } from "./metrics/metrics.js";
import { outcomeJson, outcomeTable, runOnce } from "./once.js";
import { createPlanner } from "./runtime/plan.js";
import { readVersion } from "./version.js";
import { runLabCommand, LAB_HELP } from "../lab/cli.js";
import type { LabAgent } from "../lab/command.js";
import type { LiveRow } from "../lab/live-view.js";
import { storyTimeKinds } from "../lab/story-kinds.js";
import type { Agent as AgentType } from "./agent.js";

/** Exit codes: 0 all good, 1 a check failed, 2 bad usage or config. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const HELP: Record<string, string> = {
  main: `suiteprobe ${readVersion()}: synthetic monitoring of mail, file search and chat, with classified failures.

Usage: suiteprobe <command> [options]

Commands:
  run           run the agent: scheduled checks, /metrics, status page
  once          run checks once now and print the results
  check-config  validate a config file and summarise it
  classify      classify error facts read as JSON lines from stdin
  lab           the outage lab: a simulated suite on loopback replaying an incident, with the agent and a live view

Run "suiteprobe <command> --help" for a command's options.
Exit codes: 0 ok, 1 a check failed, 2 bad usage or invalid config.`,
  run: `Usage: suiteprobe run --config FILE [--shard I/N] [--web.config.file FILE] [--web.enable-lifecycle]
                      [--web.max-connections N]

Runs the agent. SIGHUP (or POST /-/reload with --web.enable-lifecycle) re-reads the config (an invalid one is
refused and the old one keeps running); SIGTERM/SIGINT abort runs in flight, close the server and exit 0.

  --shard I/N                run only the checks whose name hashes to shard I of N (0-based); or SUITEPROBE_SHARD
  --web.config.file FILE     TLS and basic auth for every endpoint, in exporter-toolkit's web config format
  --web.enable-lifecycle     accept POST /-/reload (otherwise 403, as in Prometheus)
  --web.max-connections N    most open HTTP connections (default ${DEFAULT_MAX_CONNECTIONS}; at most a quarter of the
                             open-file limit, the rest is kept for probes)`,
  once: `Usage: suiteprobe once --config FILE [--check NAME]... [--json] [--shard I/N]

Runs the checks (all, or those named) once now. Prints a table, or with --json one JSON object per line.
Exit 0 when all succeeded, 1 when any failed, 2 on a config error.`,
  "check-config": `Usage: suiteprobe check-config --config FILE [--web.config.file FILE] [--shard I/N]

Validates the config (and the web config when given): one line per problem as "path: message" and exit 2, or a
summary (checks per kind, next run times) and exit 0.`,
  classify: `Usage: suiteprobe classify < facts.jsonl

Reads JSON lines {"protocol": "smtp"|"imap"|"http"|"graph"|"slack"|"entra"|"net"|"tls", "input": {...}}
and writes one JSON line per input: {"class","retryable","side","code"}; a malformed line gets {"error","line"}.
Exit 0 when every line was valid, 1 otherwise.`,
  lab: LAB_HELP,
};

const OPTIONS = {
  config: { type: "string", short: "c" },
  check: { type: "string", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "web.config.file": { type: "string" },
  "web.enable-lifecycle": { type: "boolean" },
  "web.max-connections": { type: "string" },
  shard: { type: "string" },
} satisfies ParseArgsConfig["options"];

type Options = {
  config?: string;
  check?: string[];
  json?: boolean;
  help?: boolean;
  "web.config.file"?: string;
  "web.enable-lifecycle"?: boolean;
  "web.max-connections"?: string;
  shard?: string;
};

/** Which commands take which web flags; any other use is a usage error. */
const WEB_FLAGS: Record<string, readonly (keyof Options)[]> = {
  run: ["web.config.file", "web.enable-lifecycle", "web.max-connections"],
  "check-config": ["web.config.file"],
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP.main);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === "--version") {
    console.log(readVersion());
    return EXIT.ok;
  }
  if (command === "lab") {
    return runLabCommand(rest, {
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => console.error(text),
      isTty: process.stdout.isTTY,
      startAgent: startLabAgent,
    });
  }
  const help = HELP[command];
  if (help === undefined || command === "main") {
    console.error(`suiteprobe: unknown command "${command}"\n\n${HELP.main}`);
    return EXIT.usage;
  }
  let options: Options;
  try {
    options = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`suiteprobe ${command}: ${(error as Error).message}\n\n${help}`);
    return EXIT.usage;
  }
  if (options.help === true) {
    console.log(help);
    return EXIT.ok;
  }
  const misplaced = (["web.config.file", "web.enable-lifecycle", "web.max-connections"] as const).filter(
    (flag) => options[flag] !== undefined && !(WEB_FLAGS[command] ?? []).includes(flag),
  );
  if (misplaced.length > 0) {
    console.error(`suiteprobe ${command}: --${misplaced.join(", --")} is not an option of ${command}\n\n${help}`);
    return EXIT.usage;
  }
  const maxConnections = Number(options["web.max-connections"] ?? DEFAULT_MAX_CONNECTIONS);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    console.error(`suiteprobe ${command}: --web.max-connections must be a whole number of at least 1`);
    return EXIT.usage;
  }
  if (command === "classify") return runClassifyCommand(process.stdin, process.stdout);
  // The flag wins over the environment (a StatefulSet sets SUITEPROBE_SHARD from the pod ordinal).
  const shardText = options.shard ?? process.env["SUITEPROBE_SHARD"];
  const shard = shardText === undefined || shardText === "" ? NO_SHARD : parseShard(shardText);
  if ("error" in shard) {
    console.error(`suiteprobe ${command}: --shard/SUITEPROBE_SHARD: ${shard.error}`);
    return EXIT.usage;
  }
  if (options.config === undefined) {
    console.error(`suiteprobe ${command}: --config FILE is required\n\n${help}`);
    return EXIT.usage;
  }
  const loaded = await loadConfigFile(options.config, PROBE_KINDS);
  const webPath = options["web.config.file"];
  const web = webPath === undefined ? { ok: true as const, config: OPEN_WEB_CONFIG } : loadWebConfigFile(webPath);
  const problems = [...(loaded.ok ? [] : loaded.errors), ...(web.ok ? [] : web.errors)];
  if (!loaded.ok || !web.ok) {
    for (const line of problems) console.error(line);
    const files = webPath === undefined ? options.config : `${options.config} and ${webPath}`;
    console.error(`suiteprobe: ${files}: ${problems.length} problem(s); nothing was run`);
    return EXIT.usage;
  }
  switch (command) {
    case "check-config":
      console.log(summarise(options.config, selectShard(loaded.config, shard)));
      if (webPath !== undefined) console.log(summariseWeb(webPath, web.config));
      return EXIT.ok;
    case "once":
      return once(selectShard(loaded.config, shard), options);
    default:
      return run(options.config, loaded.config, shard, {
        web: web.config,
        isLifecycleEnabled: options["web.enable-lifecycle"] === true,
        maxConnections,
      });
  }
}

function summarise(path: string, config: AgentConfig): string {
  const perKind = PROBE_KINDS.map((k) => [k.id, config.checks.filter((c) => c.kind.id === k.id).length] as const)
    .filter(([, n]) => n > 0)
    .map(([id, n]) => `${id}: ${n}`);
  const lines = [
    `${path}: OK, ${config.checks.length} check(s)${perKind.length > 0 ? ` (${perKind.join(", ")})` : ""}`,
    `location ${config.location}, listening on ${config.listen.host}:${config.listen.port}`,
  ];
  const now = Date.now();
  for (const check of config.checks) {
    const planner = createPlanner(check.name, check.plan);
    const first = planner.first(now);
    const second = planner.next(first, first);
    planner.close();
    const plan =
      check.plan.type === "interval" ? `every ${check.plan.everyMs / 1000}s` : `cron "${check.plan.expression}"`;
    lines.push(
      `  ${check.name}  ${check.kind.id}  ${check.target.label}  ${plan}, timeout ${check.timeoutMs / 1000}s; ` +
        `next runs ${new Date(first).toISOString()}, ${new Date(second).toISOString()}`,
    );
  }
  return lines.join("\n");
}

function summariseWeb(path: string, web: WebConfig): string {
  const tls =
    web.tls === undefined ? "plain HTTP" : `TLS (${web.tls.minVersion}+, client certs: ${web.tls.clientAuth})`;
  return `${path}: OK, ${tls}, ${web.users.size} basic-auth user(s), ${Object.keys(web.headers).length} extra header(s)`;
}

/** The credentials of the registered kinds, reaching their token endpoints through the environment's proxy. */
function credentialSet(logger: Logger): CredentialSet {
  return new CredentialSet(credentialFamilyOf(PROBE_KINDS), {
    logger,
    proxyFor: (url) => proxyForUrl(url, process.env),
  });
}

async function once(config: AgentConfig, options: Options): Promise<number> {
  const names = options.check ?? [];
  const unknown = names.filter((n) => !config.checks.some((c) => c.name === n));
  if (unknown.length > 0) {
    console.error(`suiteprobe once: no check named ${unknown.map((n) => `"${n}"`).join(", ")}`);
    return EXIT.usage;
  }
  const checks = names.length === 0 ? config.checks : config.checks.filter((c) => names.includes(c.name));
  // Results go to stdout; logs (warnings only) to stderr so they never mix with the table or JSON.
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel, process.stderr);
  const credentials = credentialSet(logger);
  credentials.apply(config);
  const outcomes = await runOnce(checks, logger, credentials);
  if (options.json === true) for (const o of outcomes) console.log(JSON.stringify(outcomeJson(o, config)));
  else process.stdout.write(outcomeTable(outcomes));
  return outcomes.every((o) => o.status === "success") ? EXIT.ok : EXIT.failed;
}

async function run(
  configPath: string,
  config: AgentConfig,
  shard: Shard,
  http: { web: WebConfig; isLifecycleEnabled: boolean; maxConnections: number },
): Promise<number> {
  const logger = createLogger(config.logLevel);
  const started = await serve(configPath, config, http, logger, shard);
  if (started === undefined) return EXIT.failed;
  const { agent, server } = started;
  process.on("SIGHUP", () => void agent.reload());
  return new Promise((resolve) => {
    let isStopping = false;
    const stop = (signal: string) => {
      if (isStopping) return;
      isStopping = true;
      logger.info({ signal }, "stopping");
      server.close();
      server.closeAllConnections();
      agent
        .stop()
        .then(() => {
          logger.info("stopped");
          resolve(EXIT.ok);
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, "error while stopping");
          resolve(EXIT.failed);
        });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

/** Builds the agent and its HTTP server, listens and starts the checks; undefined when it cannot listen. */
async function serve(
  configPath: string,
  config: AgentConfig,
  http: { web: WebConfig; isLifecycleEnabled: boolean; maxConnections: number },
  logger: Logger,
  shard: Shard = NO_SHARD,
  kinds: readonly AnyProbeKind[] = PROBE_KINDS,
): Promise<{ agent: AgentType; server: ReturnType<typeof createHttpServer> } | undefined> {
  const version = readVersion();
  const registry = new Registry();
  const metrics = new Metrics(registry, { version, nodeVersion: process.version }, collectFacts(kinds));
  metrics.setShard(shard);
  const agent = new Agent({
    kinds,
    configPath,
    logger,
    metrics,
    credentials: credentialSet(logger),
    shard,
  });
  const fdLimit = openFileLimit();
  const cap = connectionCap(http.maxConnections, fdLimit);
  if (cap < http.maxConnections) {
    logger.warn({ requested: http.maxConnections, cap, open_file_limit: fdLimit }, "HTTP connection cap lowered");
  }
  const server = createHttpServer({
    agent,
    registry,
    logger,
    version,
    web: http.web,
    isLifecycleEnabled: http.isLifecycleEnabled,
    limits: defaultLimits(cap),
  });

  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection (kept running)"));
  process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception (kept running)"));

  try {
    const address = await listen(server, config.listen.host, config.listen.port);
    logger.info(
      {
        address: `${address.address}:${address.port}`,
        version,
        tls: http.web.tls !== undefined,
        basic_auth: http.web.users.size > 0,
        lifecycle: http.isLifecycleEnabled,
        max_connections: cap,
      },
      "listening",
    );
  } catch (error) {
    logger.fatal({ err: error }, `cannot listen on ${config.listen.host}:${config.listen.port}`);
    return undefined;
  }
  await agent.start(config);
  logger.info({ checks: config.checks.length, location: config.location }, "agent started");
  return { agent, server };
}

/** The agent for `suiteprobe lab`, in this process; its logs (warnings only) go to stderr beside the live view. */
async function startLabAgent(configPath: string, _isQuiet: boolean, speed: number): Promise<LabAgent | undefined> {
  // The lab mailbox's password is not a secret; config/lab.yaml still reads it by reference, as every config must.
  process.env.SUITEPROBE_LAB_PASSWORD ??= "lab";
  // Likewise the simulator's seeded app secret (docs/simulator.md).
  process.env.SUITEPROBE_LAB_APP_SECRET ??= "sim-secret-value";
  // Minimum intervals that protect a real provider are story time against the simulator (lab/story-kinds.ts).
  const kinds = storyTimeKinds(PROBE_KINDS, speed);
  const loaded = await loadConfigFile(configPath, kinds);
  if (!loaded.ok) {
    for (const line of loaded.errors) console.error(line);
    return undefined;
  }
  // The live view shows every result; the agent logs only warnings and errors beside it (to stderr).
  const config = { ...loaded.config, logLevel: loaded.config.logLevel === "info" ? "warn" : loaded.config.logLevel };
  const logger = createLogger(config.logLevel, process.stderr);
  const http = { web: OPEN_WEB_CONFIG, isLifecycleEnabled: false, maxConnections: DEFAULT_MAX_CONNECTIONS };
  const started = await serve(configPath, config, http, logger, NO_SHARD, kinds);
  if (started === undefined) return undefined;
  const { agent, server } = started;
  const host = config.listen.host === "0.0.0.0" ? "127.0.0.1" : config.listen.host;
  return {
    url: `http://${host}:${config.listen.port}/`,
    rows: () => agent.statuses().map(liveRow),
    stop: async () => {
      server.close();
      server.closeAllConnections();
      await agent.stop();
    },
  };
}

/** A check's status as the lab's live view shows it. */
function liveRow(status: ReturnType<AgentType["statuses"]>[number]): LiveRow {
  const last = status.last;
  const failure = last?.failure;
  return {
    check: status.check.name,
    kind: status.check.kind.id,
    state: last === undefined ? "pending" : last.status === "success" ? "ok" : "failing",
    class: failure?.class,
    code: failure?.code,
    facts: failure === undefined || last === undefined ? undefined : factRecord(last.facts),
    side: failure?.side,
    retryable: failure?.retryable,
    phase: failure?.phase,
    latencyMs: last === undefined ? undefined : last.durationSeconds * 1000,
    failingSince: status.failingSince?.getTime(),
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Sockets still saying QUIT may finish on their own; none may hold the process open for long.
    setTimeout(() => process.exit(code), 1500).unref();
  },
  (error: unknown) => {
    console.error(`suiteprobe: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(EXIT.usage);
  },
);
