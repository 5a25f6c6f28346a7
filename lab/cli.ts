// Argument parsing and help of `suiteprobe lab`; src/cli.ts calls runLabCommand with a way to start the agent.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_PORT_BASE,
  LAB_ACCOUNT,
  loadScenarioOrReport,
  runLab,
  scenarioPath,
  type LabAgent,
} from "./command.js";

/** Help text of `suiteprobe lab`. */
export const LAB_HELP = `Usage: suiteprobe lab [--scenario NAME|FILE] [--speed N] [--config FILE] [--port-base N]
                      [--no-agent] [--plain|--quiet] [--exit-at-end]
       suiteprobe lab --drill NAME|FILE --prometheus.url URL --alertmanager.url URL [--speed N] [--results DIR]

Starts the outage lab on 127.0.0.1 — SMTP submission (port N), an IMAP mailbox (N+1), the Microsoft 365 / Slack
simulator (N+2), the lab's own /metrics with lab_fault_active (N+3); N defaults to ${DEFAULT_PORT_BASE} — plays a
scenario (scenarios/NAME.yaml; default m365-2026-01-22) and runs the agent on --config (default config/lab.yaml)
against it, with a live view: in place on a terminal, one line per change otherwise.

  --speed N            scenario seconds per real second (default: the scenario's own, 60 for the shipped ones)
  --no-agent           run only the lab (point an agent elsewhere at the ports above)
  --plain, --quiet     plain log lines / no live view
  --exit-at-end        stop when the scenario ends (default: keep the last state until SIGINT/SIGTERM)
  --drill NAME         fire drill: play NAME and watch --prometheus.url and --alertmanager.url (which must scrape
                       the agent and load the suiteprobe rules); prints and writes time-to-detect, time-to-notify
                       and false alerts to --results (default bench/results) as drill-NAME.json. Exit 1 on a false
                       or missed alert. With the shipped rules (15m windows) use --speed 1; see docs/lab.md.

The lab's IMAP password is read from ${LAB_ACCOUNT.passwordEnv} (default "${LAB_ACCOUNT.password}").
Exit codes: 0 ok, 1 drill found false or missed alerts, 2 bad usage or invalid scenario/config.`;

/** Where package files (scenarios/, config/) are: the nearest folder above this module with a package.json. */
export function packageRoot(from = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Runs `suiteprobe lab ARGS`; `startAgent` starts the agent on a config file (done by the composition root). */
export async function runLabCommand(
  args: string[],
  io: {
    out: (text: string) => void;
    err: (text: string) => void;
    isTty: boolean;
    startAgent: (configPath: string, isQuiet: boolean, speed: number) => Promise<LabAgent | undefined>;
  },
): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: "string" },
        drill: { type: "string" },
        speed: { type: "string" },
        config: { type: "string" },
        "port-base": { type: "string" },
        "no-agent": { type: "boolean" },
        plain: { type: "boolean" },
        quiet: { type: "boolean" },
        "exit-at-end": { type: "boolean" },
        "prometheus.url": { type: "string" },
        "alertmanager.url": { type: "string" },
        results: { type: "string" },
        location: { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    io.err(`suiteprobe lab: ${(error as Error).message}\n\n${LAB_HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.out(LAB_HELP);
    return 0;
  }
  const problems: string[] = [];
  const number = (flag: string, text: string | undefined, min: number, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) problems.push(`--${flag}: must be a number from ${min} to ${max}`);
    return n;
  };
  const speed = number("speed", values.speed, 0.001, 10_000);
  const portBase = number("port-base", values["port-base"], 1024, 65_532) ?? DEFAULT_PORT_BASE;
  const seed = number("seed", values.seed, 0, 2 ** 31) ?? 1;
  if (values.drill !== undefined && values.scenario !== undefined)
    problems.push("--drill names the scenario; drop --scenario");
  if (values.drill !== undefined) {
    for (const flag of ["prometheus.url", "alertmanager.url"] as const) {
      if (values[flag] === undefined) problems.push(`--drill needs --${flag}`);
      else if (!URL.canParse(values[flag])) problems.push(`--${flag}: not a URL`);
    }
  }
  if (problems.length > 0) {
    for (const p of problems) io.err(`suiteprobe lab: ${p}`);
    return 2;
  }
  const root = packageRoot();
  const name = values.drill ?? values.scenario ?? "m365-2026-01-22";
  const scenario = await loadScenarioOrReport(scenarioPath(name, root), io.err);
  if (scenario === undefined) return 2;
  const view = values.quiet === true ? "none" : values.plain === true || !io.isTty ? "lines" : "tty";
  const configPath = values.config ?? join(root, "config", "lab.yaml");
  const isDrill = values.drill !== undefined;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const effectiveSpeed = speed ?? scenario.speed;
    return await runLab(
      scenario,
      {
        scenario: name,
        ...(speed === undefined ? {} : { speed }),
        portBase,
        view,
        isExitAtEnd: values["exit-at-end"] === true || isDrill,
        // A drill waits 15 scenario minutes after the end so alerts can resolve (windows plus keep_firing_for).
        lingerMs: isDrill ? (15 * 60_000) / effectiveSpeed : 0,
        seed,
        ...(isDrill && {
          drill: {
            prometheusUrl: values["prometheus.url"] ?? "",
            alertmanagerUrl: values["alertmanager.url"] ?? "",
            resultsDir: values.results ?? join(root, "bench", "results"),
            location: values.location,
          },
        }),
      },
      {
        out: io.out,
        stop: stop.signal,
        ...(values["no-agent"] === true
          ? {}
          : {
              startAgent: async () => {
                const agent = await io.startAgent(configPath, view === "tty", effectiveSpeed);
                if (agent === undefined) throw new LabUsageError(`${configPath}: invalid config; nothing was run`);
                return agent;
              },
            }),
      },
    );
  } catch (error) {
    if (error instanceof LabUsageError) {
      io.err(`suiteprobe lab: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** A problem the user can fix (bad config): exit 2, not a crash. */
class LabUsageError extends Error {
  override readonly name = "LabUsageError";
}
