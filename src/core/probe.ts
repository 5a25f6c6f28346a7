import type { Logger } from "pino";
import type { z } from "zod";

/** Where a check points, as parsed from its `target`. */
export type Target =
  | {
      type: "socket";
      host: string;
      port: number;
      /** `host:port`, IPv6 in brackets; the `target` label. */ label: string;
    }
  | { type: "url"; url: URL; label: string }
  | { type: "none"; label: string };

/** How a kind reads the check's `target` field. */
export type TargetSpec<S> =
  | { type: "socket"; defaultPort(settings: S): number }
  | { type: "url" }
  /** The kind's own block names its endpoints; `label` derives the `target` label from it. */
  | { type: "none"; label(settings: S): string };

/** Times the phases of one run. */
export interface PhaseClock {
  /** Runs `fn` as the named phase; its duration is recorded even when it throws. */
  time<T>(phase: string, fn: () => Promise<T>): Promise<T>;
  /** The phase in progress (innermost), if any: where a failure without its own phase happened. */
  readonly current: string | undefined;
  /** Durations so far, in seconds, in the order phases started. A repeated phase accumulates. */
  snapshot(): Record<string, number>;
}

/** Facts a run reports besides success and phases; the metrics module maps each to its metric. */
export interface RunFacts {
  /** Last SMTP reply code seen (0 when none). */
  smtpReplyCode?: number;
  /** Earliest `notAfter` of the peer's certificate chain, Unix seconds, where TLS was used. */
  sslEarliestCertExpiry?: number;
  /** Submission accepted → message visible in the mailbox, seconds (round trips that arrived in time). */
  mailDeliverySeconds?: number;
  /** Messages of earlier runs found after their deadline during this run. */
  mailLate?: number;
  /** Sends whose outcome is unknown (connection lost after DATA, before the reply). */
  mailUncertainSends?: number;
  /** Round-trip messages found in a Junk folder. */
  mailJunked?: number;
}

/** Everything one run of a probe gets. Probes honour `signal`, never touch metrics or `process.env`. */
export interface ProbeContext<S> {
  readonly check: string;
  readonly settings: S;
  readonly target: Target;
  /** Aborted at the run's deadline or at shutdown; sockets must be destroyed when it fires. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds by which the run must end. */
  readonly deadline: number;
  readonly phases: PhaseClock;
  /** Written by the probe as it learns them, also on failure. */
  readonly facts: RunFacts;
  readonly logger: Logger;
  /** Lives as long as the check is configured unchanged; for state carried between runs (e.g. pending ids). */
  readonly state: Map<string, unknown>;
}

/** What a protocol session borrows from its run: the signal, the phase clock, the facts record and the logger. */
export type SessionIo = Pick<ProbeContext<unknown>, "signal" | "phases" | "facts" | "logger">;

/** A probe kind: one file in probes/ and one line in probes/index.ts. */
export interface ProbeKind<S = unknown> {
  /** The `kind` value and the key of the kind's settings block in a check. */
  readonly id: string;
  /** One line: what the kind does (README table, check-config). */
  readonly title: string;
  /** The kind's own block, strict; `.describe()` on every field. */
  readonly settingsSchema: z.ZodType<S>;
  /** May the block be left out (all fields have defaults)? */
  readonly isSettingsOptional: boolean;
  /** The fixed set of phase label values. */
  readonly phases: readonly string[];
  readonly target: TargetSpec<S>;
  /** The shortest check timeout the settings can work with, and why (checked at config load). */
  minTimeoutMs?(settings: S): { ms: number; why: string };
  /** One run. Resolves on success; throws (preferably a ProbeError) on failure. */
  run(ctx: ProbeContext<S>): Promise<void>;
}

/** Erases a kind's settings type for the registry. */
export function defineKind<S>(kind: ProbeKind<S>): ProbeKind<unknown> {
  return kind;
}
