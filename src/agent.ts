import type { Logger } from "pino";
import type { AgentConfig, CheckConfig, LoadResult } from "./config/model.js";
import { loadConfigFile } from "./config/load.js";
import { escapeControl } from "./core/control-chars.js";
import { credentialFamilyOf } from "./core/credentials.js";
import type { AnyProbeKind } from "./core/probe.js";
import type { Metrics, SeriesLabels } from "./metrics/metrics.js";
import { failureFields, runCheck, type RunOutcome } from "./runtime/runner.js";
import { CredentialSet } from "./runtime/credentials.js";
import { Scheduler } from "./runtime/scheduler.js";
import { NO_SHARD, selectShard, type Shard } from "./runtime/shard.js";

/** What the status page shows of one check. */
export interface CheckStatus {
  check: CheckConfig;
  last?: RunOutcome;
  lastSuccessAt?: Date;
  nextRunAt?: Date;
  /** End of the first failed run of the current streak of failures; unset while the check succeeds. */
  failingSince?: Date;
}

/** A refused reload, as the status page shows it (the problems themselves are in the log only). */
export interface ReloadFailure {
  at: Date;
  problems: number;
}

/** The running agent: config, scheduler, metrics, reload. Knows no protocol. */
export class Agent {
  readonly #kinds: readonly AnyProbeKind[];
  readonly #configPath: string;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #scheduler: Scheduler;
  readonly #status = new Map<string, CheckStatus>();
  /** The checks in force by name: the run path looks a check up in O(1). */
  #checksByName = new Map<string, CheckConfig>();
  /** Each check's series labels, built once per config: every run reuses the same object. */
  #labelsByName = new Map<string, SeriesLabels>();
  /** Each check's child logger, built once per config (a child takes the parent's level when it is made). */
  #loggersByName = new Map<string, Logger>();
  #config: AgentConfig | undefined;
  #lastReloadFailure: ReloadFailure | undefined;
  /** A reload asked for but not yet reading the file; later requests share it. */
  #queued: Promise<LoadResult> | undefined;
  /** The end of the reload chain: reloads run one after another, never two at once. */
  #reloadTail: Promise<unknown> = Promise.resolve();

  readonly #credentials: CredentialSet;
  readonly #shard: Shard;

  constructor(deps: {
    kinds: readonly AnyProbeKind[];
    configPath: string;
    logger: Logger;
    metrics: Metrics;
    /** The credentials checks sign in with; default: made by the kinds' family, with no proxy. */
    credentials?: CredentialSet;
    /** Run only this shard's checks, at start and after every reload. */
    shard?: Shard;
  }) {
    this.#shard = deps.shard ?? NO_SHARD;
    const credentials =
      deps.credentials ??
      new CredentialSet(credentialFamilyOf(deps.kinds), { logger: deps.logger, proxyFor: () => undefined });
    this.#credentials = credentials;
    this.#kinds = deps.kinds;
    this.#configPath = deps.configPath;
    this.#logger = deps.logger;
    this.#metrics = deps.metrics;
    this.#scheduler = new Scheduler({
      logger: deps.logger,
      run: (check, state, cancel) => runCheck(check, { logger: this.#loggerOf(check), state, cancel, credentials }),
      onOutcome: (outcome, check) => this.#record(outcome, check),
      onSkip: (check, reason) => {
        deps.metrics.recordSkip(check.name, reason);
        if (reason === "throttled") deps.metrics.setThrottled(this.seriesLabels(check), true);
      },
      onLag: (seconds) => deps.metrics.lag.observe(seconds),
    });
  }

  /** The config in force, once loaded. */
  get config(): AgentConfig | undefined {
    return this.#config;
  }

  /** The last reload, when it was refused; cleared by a successful one. */
  get lastReloadFailure(): ReloadFailure | undefined {
    return this.#lastReloadFailure;
  }

  /** Ready: a config is loaded and the scheduler runs. */
  get isReady(): boolean {
    return this.#config !== undefined && this.#scheduler.isRunning;
  }

  /** Loads the first config and starts scheduling; on errors nothing starts. */
  start(initial: AgentConfig): Promise<void> {
    // A promise, as callers await it; a throwing config rejects it rather than throwing at the call.
    return Promise.resolve().then(() => {
      this.#apply(initial);
      this.#metrics.reloadSuccessful.set(1);
      this.#metrics.reloadTimestamp.set(Date.now() / 1000);
      this.#scheduler.start();
    });
  }

  /** Re-reads the config file; a valid one replaces the old, an invalid one is logged and the old keeps running.
   * Reloads are serialised and the last request wins: a request made while another reload is reading the file gets
   * a fresh read after it (requests waiting together share that read), and each resolves with what its read found. */
  reload(): Promise<LoadResult> {
    if (this.#queued !== undefined) return this.#queued;
    const queued = this.#reloadTail.then(() => {
      this.#queued = undefined;
      return this.#reload();
    });
    this.#queued = queued;
    this.#reloadTail = queued.catch(() => undefined);
    return queued;
  }

  async #reload(): Promise<LoadResult> {
    try {
      return await this.#loadAndApply();
    } catch (error) {
      // Nothing may escape a reload as a rejection; the old config keeps running and the gauge says so.
      this.#metrics.reloadSuccessful.set(0);
      this.#lastReloadFailure = { at: new Date(), problems: 1 };
      this.#logger.error({ err: error }, "config reload failed; the previous config keeps running");
      return { ok: false, errors: [`${this.#configPath}: config reload failed (${(error as Error).name})`] };
    }
  }

  async #loadAndApply(): Promise<LoadResult> {
    const result = await loadConfigFile(this.#configPath, this.#kinds);
    if (!result.ok) {
      this.#metrics.reloadSuccessful.set(0);
      this.#lastReloadFailure = { at: new Date(), problems: result.errors.length };
      for (const line of result.errors) this.#logger.error({ problem: line }, "config reload refused");
      this.#logger.error({ problems: result.errors.length }, "config reload failed; the previous config keeps running");
      return result;
    }
    const old = this.#config;
    if (
      old !== undefined &&
      (old.listen.host !== result.config.listen.host || old.listen.port !== result.config.listen.port)
    ) {
      this.#logger.warn("agent.listen changed: it takes effect on restart");
    }
    this.#apply(result.config);
    this.#lastReloadFailure = undefined;
    this.#metrics.reloadSuccessful.set(1);
    this.#metrics.reloadTimestamp.set(Date.now() / 1000);
    this.#logger.info({ checks: result.config.checks.length }, "config reloaded");
    return result;
  }

  /** Stops the scheduler, aborting runs in flight. */
  async stop(): Promise<void> {
    await this.#scheduler.stop();
  }

  /** Every check with its last outcome, in config order. */
  statuses(): CheckStatus[] {
    const next = this.#scheduler.nextRuns();
    return (this.#config?.checks ?? []).map((check) => {
      const status = this.#status.get(check.name) ?? { check };
      const planned = next.get(check.name);
      return planned === undefined || planned === 0 ? status : { ...status, nextRunAt: new Date(planned) };
    });
  }

  #apply(whole: AgentConfig): void {
    const config = selectShard(whole, this.#shard);
    this.#credentials.apply(config);
    this.#logger.level = config.logLevel;
    const labelNames = [...Object.keys(config.labels), ...config.checks.flatMap((c) => Object.keys(c.labels))];
    const before = this.#metrics.generation;
    this.#metrics.setExtraLabels(labelNames);
    this.#metrics.setOptions(config.metrics);
    const haveLabelsChanged = before !== this.#metrics.generation;
    const previous = this.#config;
    this.#config = config;
    this.#checksByName = new Map(config.checks.map((c) => [c.name, c]));
    this.#labelsByName = new Map();
    this.#loggersByName = new Map();

    const { removed, added } = this.#scheduler.apply(config.checks);
    for (const name of removed) {
      this.#status.delete(name);
      this.#metrics.removeCheck(name);
    }
    const toInit = new Set(
      haveLabelsChanged || previous?.location !== config.location ? config.checks.map((c) => c.name) : added,
    );
    for (const check of config.checks) {
      if (toInit.has(check.name)) {
        this.#metrics.initCheck(this.seriesLabels(check), check.throttleScope !== undefined);
      }
      this.#status.set(check.name, { ...this.#status.get(check.name), check });
    }
    for (const kind of this.#kinds) {
      this.#metrics.checksByKind.set({ kind: kind.id }, config.checks.filter((c) => c.kind.id === kind.id).length);
    }
  }

  /** The labels of a check's series: probe labels, then agent labels overridden by check labels. The object is shared
   * by every run of the check in force; callers must not change it. */
  seriesLabels(check: CheckConfig): SeriesLabels {
    const isInForce = this.#checksByName.get(check.name) === check;
    const cached = isInForce ? this.#labelsByName.get(check.name) : undefined;
    if (cached !== undefined) return cached;
    const labels = this.#buildLabels(check);
    if (isInForce) this.#labelsByName.set(check.name, labels);
    return labels;
  }

  #buildLabels(check: CheckConfig): SeriesLabels {
    const config = this.#config;
    const labels: SeriesLabels = {
      check: check.name,
      kind: check.kind.id,
      target: check.target.label,
      location: config?.location ?? "local",
    };
    for (const name of this.#metrics.extraLabels) labels[name] = check.labels[name] ?? config?.labels[name] ?? "";
    return labels;
  }

  #loggerOf(check: CheckConfig): Logger {
    let logger = this.#loggersByName.get(check.name);
    if (logger === undefined) {
      logger = this.#logger.child({ check: check.name });
      this.#loggersByName.set(check.name, logger);
    }
    return logger;
  }

  #record(outcome: RunOutcome, check: CheckConfig): void {
    if (outcome.status === "cancelled") return;
    // A run that finished after its check was removed or changed must not re-create stale series.
    if (this.#checksByName.get(check.name)?.fingerprint !== check.fingerprint) return;
    const labels = this.seriesLabels(check);
    this.#metrics.recordRun(labels, {
      success: outcome.status === "success",
      durationSeconds: outcome.durationSeconds,
      phases: outcome.phases,
      facts: outcome.facts,
      ...(outcome.labelledFacts && { labelledFacts: outcome.labelledFacts }),
      declaredFacts: check.kind.facts,
      endedAtSeconds: outcome.endedAt.getTime() / 1000,
      // Only a kind the scheduler holds on a throttle honours the back-off; for the others (mail) it stays a failure.
      isThrottled: check.throttleScope !== undefined && outcome.failure?.class === "throttled",
      ...(outcome.failure && {
        failure: {
          class: outcome.failure.class,
          code: outcome.failure.code,
          phase: outcome.failure.phase,
          side: outcome.failure.side,
        },
      }),
    });
    if (check.throttleScope !== undefined) {
      this.#metrics.setThrottled(labels, this.#scheduler.heldUntil(check) !== undefined);
    }
    const before = this.#status.get(check.name);
    const change = resultChange(before?.last, outcome);
    const lastSuccessAt = outcome.status === "success" ? outcome.endedAt : before?.lastSuccessAt;
    const failingSince = outcome.status === "success" ? undefined : (before?.failingSince ?? outcome.endedAt);
    this.#status.set(check.name, {
      check,
      last: outcome,
      ...(lastSuccessAt && { lastSuccessAt }),
      ...(failingSince && { failingSince }),
    });
    // At thousands of runs a second, a line per healthy result is most of the log's cost: successes that change
    // nothing go to debug; failures, the first result and every change of state go to info.
    if (change === undefined && outcome.status === "success") {
      if (this.#logger.isLevelEnabled("debug")) this.#logger.debug(resultLogFields(outcome), "check success");
    } else {
      this.#logger.info(
        { ...resultLogFields(outcome), ...(change && { change }) },
        change === "recovered" ? "check recovered" : `check ${outcome.status}`,
      );
    }
  }
}

/** How a result changes a check's state: its first result, success → failure, a new failure class, or recovery. */
export type ResultChange = "first" | "failing" | "class_changed" | "recovered";

/** The change from the previous result to this one; undefined when the state stays the same. */
export function resultChange(previous: RunOutcome | undefined, next: RunOutcome): ResultChange | undefined {
  if (previous === undefined) return "first";
  if (previous.status === "success") return next.status === "success" ? undefined : "failing";
  if (next.status === "success") return "recovered";
  return previous.failure?.class === next.failure?.class ? undefined : "class_changed";
}

/** The fields of the one log line per result. */
export function resultLogFields(outcome: RunOutcome): Record<string, unknown> {
  return {
    check: outcome.check,
    kind: outcome.kind,
    target: outcome.target,
    result: outcome.status,
    duration_ms: Math.round(outcome.durationSeconds * 1000),
    phases_ms: Object.fromEntries(Object.entries(outcome.phases).map(([p, s]) => [p, Math.round(s * 1000)])),
    ...failureFields(outcome.failure),
    // JSON escapes C0 controls but not C1 (U+009B is a CSI on some terminals) or bidi overrides.
    ...(outcome.failure && { message: escapeControl(outcome.failure.message) }),
  };
}
