/**
 * The round-trip driver: send a uniquely marked item, watch until it is visible or a deadline passes, clean up only
 * this check's own items. Mail (SMTP → IMAP) uses it now; chat (post → read back → delete) and search index lag
 * (upload → query → delete) plug in their own sender and watcher.
 *
 * Bookkeeping it owns: a probe id per run; pending ids of earlier runs with their deadlines (per check, in memory);
 * late arrivals counted once and never confused with a later run's item; uncertain sends kept watched; leftovers of
 * earlier runs, or of a restarted agent, deleted by exact id only; reconnecting until the deadline.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Fact, FactRecorder } from "../../../src/core/facts.js";
import type { PhaseClock } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { newProbeId, parseProbeId } from "./probe-id.js";

/** A probe item found by a watcher: its probe id and whatever the watcher needs to delete it. */
export interface RoundTripItem {
  readonly id: string;
}

/** Pending ids of earlier runs of one check (sent, not yet seen) and items whose deletion failed. */
export interface RoundTripState {
  readonly pending: Map<string, { deadlineMs: number }>;
  /** Items of this check seen but not deleted (the delete was refused or failed): the next run deletes them first. */
  readonly undeleted: Map<string, RoundTripItem>;
}

/** A fresh state for a (re)configured check. */
export function createRoundTripState(): RoundTripState {
  return { pending: new Map(), undeleted: new Map() };
}

/** Pending ids are forgotten after this long or beyond this many (oldest first). */
const PENDING_TTL_MS = 24 * 3_600_000;
const PENDING_MAX = 1000;
/** A leftover not sent by this agent is deleted only when older than max_delivery plus this. */
const LEFTOVER_GRACE_MS = 60_000;

/** The facts a round trip reports, declared by the kind (mail and chat name them differently). */
export interface RoundTripFacts {
  /** Sent → visible, seconds, for items that arrived in time. */
  delivery: Fact<"histogram">;
  /** Items of earlier runs seen after their deadline. */
  late: Fact<"counter">;
  /** Sends whose outcome is unknown (connection lost after the item was handed over, before the answer). */
  uncertain: Fact<"counter">;
}

/** What sending reports: when the service accepted the item, or the error that left its fate unknown. */
export interface SendOutcome<M extends RoundTripItem = never> {
  acceptedAtMs: number;
  /**
   * The item as the service named it in its answer (a chat message id), when the sender learns it: if it is not
   * visible by the deadline it is deleted all the same (and so never counted late), so nothing stays behind.
   */
  item?: M;
  /** The send's failure when the item may still arrive; it is kept watched and this error is reported if it does not. */
  uncertain?: ProbeError;
}

/** The watching side. Each method labels its own failures with the phase the driver names. */
export interface RoundTripWatcher<M extends RoundTripItem> {
  /** Connects (again, after a loss). */
  open(): Promise<void>;
  /**
   * This check's items present before the send: earlier runs' and leftovers. Times its own phase. `remembered` are
   * items whose deletion failed in earlier runs: a watcher that cannot list cheaply (a rate-limited read API) returns
   * them; one that lists returns what it finds (the driver deletes listed items that are in `remembered` by id).
   */
  existing(remembered: readonly M[]): Promise<M[]>;
  /** This check's items that appeared since the last look; `expectedId` helps match a stripped marker. */
  poll(expectedId: string, phase: string): Promise<M[]>;
  /** Waits up to `ms` for news (e.g. IMAP IDLE) or sleeps. */
  wait(ms: number, phase: string): Promise<void>;
  /** Deletes exactly these items. */
  remove(items: readonly M[], phase: string): Promise<void>;
  /** Whether `error` is a lost connection worth reopening for (not a refusal). */
  isConnectionLoss(error: unknown): boolean;
  /** Closes the connection, if any; the next `open` starts afresh. */
  close(): void;
}

/** What one round trip needs from its run. */
export interface RoundTripRun<M extends RoundTripItem> {
  check: string;
  state: RoundTripState;
  phases: PhaseClock;
  facts: FactRecorder;
  logger: Logger;
  signal: AbortSignal;
  declared: RoundTripFacts;
  maxDeliveryMs: number;
  pollIntervalMs: number;
  send(id: string): Promise<SendOutcome<NoInfer<M>>>;
  watcher: RoundTripWatcher<M>;
  /** The kind's labels for the driver's two phases; default `delivery` and `cleanup` (chat: `visible`, `delete`). */
  phaseNames?: RoundTripPhaseNames;
}

/** Phases the driver times itself; the sender's and watcher's own phases come on top. */
export const ROUND_TRIP_PHASES = ["delivery", "cleanup"] as const;

/** What a kind calls the driver's phases: sent → visible, and deleting probe items. */
export interface RoundTripPhaseNames {
  delivery: string;
  cleanup: string;
}

/**
 * One round trip. Resolves with the item found in time (already deleted); throws the uncertain send's error or a
 * `delivery` failure when it did not arrive, or the first failure of the sender or watcher.
 */
export async function runRoundTrip<M extends RoundTripItem>(run: RoundTripRun<M>): Promise<M> {
  const { facts, declared, watcher, phases } = run;
  const names = run.phaseNames ?? { delivery: "delivery", cleanup: "cleanup" };
  const pending = prunedPending(run.state, Date.now());
  // Zero first: once output and the counters show "none this run" rather than nothing.
  facts.add(declared.late, 0);
  facts.add(declared.uncertain, 0);

  await watcher.open();
  await cleanEarlierRuns(run, pending, names.cleanup);

  const id = newProbeId(run.check, Date.now());
  const sent = await run.send(id);
  if (sent.uncertain !== undefined) facts.add(declared.uncertain, 1);
  const deadlineMs = sent.acceptedAtMs + run.maxDeliveryMs;
  pending.set(id, { deadlineMs });

  let watched: Awaited<ReturnType<typeof watchForDelivery<M>>>;
  try {
    watched = await phases.time(names.delivery, () => watchForDelivery(run, id, deadlineMs, names.delivery));
  } catch (error) {
    // The watch failed (refused, throttled): send nothing more now; the next run deletes the item first.
    if (sent.item !== undefined) {
      pending.delete(id);
      run.state.undeleted.set(id, sent.item);
    }
    throw error;
  }
  const { found, seenAtMs, late } = watched;
  if (found !== undefined) {
    pending.delete(id);
    facts.observe(declared.delivery, Math.max(0, (seenAtMs - sent.acceptedAtMs) / 1000));
  }
  if (found !== undefined) {
    await removeMine(run, [...late, found], names.cleanup);
    return found;
  }
  const unseen = sent.item === undefined ? [] : [sent.item];
  if (sent.item !== undefined) pending.delete(id);
  try {
    await removeMine(run, [...late, ...unseen], names.cleanup);
  } catch (error) {
    // Not visible is the finding; a failed delete is remembered and retried by the next run.
    run.logger.warn({ err: error }, "deleting probe items failed after a missed delivery");
  }
  if (sent.uncertain !== undefined) throw sent.uncertain;
  throw new ProbeError(`not visible within ${run.maxDeliveryMs / 1000}s`, {
    phase: names.delivery,
    facts: { protocol: "probe", input: { class: "delivery" } },
  });
}

function prunedPending(state: RoundTripState, nowMs: number): RoundTripState["pending"] {
  const { pending, undeleted } = state;
  // Insertion order is send order: the oldest go first.
  for (const [id, p] of pending) {
    if (nowMs - p.deadlineMs > PENDING_TTL_MS || pending.size > PENDING_MAX) pending.delete(id);
  }
  for (const id of undeleted.keys()) {
    const sentAtMs = parseProbeId(id)?.sentAtMs ?? 0;
    if (nowMs - sentAtMs > PENDING_TTL_MS || undeleted.size > PENDING_MAX) undeleted.delete(id);
  }
  return pending;
}

/** Deletes this check's `items`; when that fails they are remembered, so the next run deletes them first. */
async function removeMine<M extends RoundTripItem>(run: RoundTripRun<M>, items: M[], phase: string): Promise<void> {
  if (items.length === 0) return;
  try {
    await run.phases.time(phase, () => run.watcher.remove(items, phase));
  } catch (error) {
    for (const item of items) run.state.undeleted.set(item.id, item);
    throw error;
  }
  for (const item of items) run.state.undeleted.delete(item.id);
}

/** Counts a pending id of an earlier run as late (if past its deadline); true when `item` was one. */
function settle(item: RoundTripItem, run: RoundTripRun<RoundTripItem>, nowMs: number): boolean {
  const p = run.state.pending.get(item.id);
  if (p === undefined) return false;
  run.state.pending.delete(item.id);
  if (nowMs > p.deadlineMs) run.facts.add(run.declared.late, 1);
  return true;
}

/**
 * Deletes earlier runs' items (late ones counted), items whose deletion failed before, and old leftovers (e.g. from
 * before a restart).
 */
async function cleanEarlierRuns<M extends RoundTripItem>(
  run: RoundTripRun<M>,
  pending: RoundTripState["pending"],
  phase: string,
): Promise<void> {
  const now = Date.now();
  const { undeleted } = run.state;
  // The watcher's own item type went in; only it made them.
  const remembered = [...undeleted.values()] as M[];
  const isOldLeftover = (item: M): boolean =>
    !pending.has(item.id) && now - (parseProbeId(item.id)?.sentAtMs ?? now) > run.maxDeliveryMs + LEFTOVER_GRACE_MS;
  const toDelete = (await run.watcher.existing(remembered)).filter(
    (item) => undeleted.has(item.id) || isOldLeftover(item) || settle(item, run, now),
  );
  if (toDelete.length === 0) return;
  run.logger.info({ count: toDelete.length }, "deleting probe items of earlier runs");
  await removeMine(run, toDelete, phase);
}

/**
 * Polls until this run's item shows or the deadline passes, waiting `pollIntervalMs` between looks. A lost
 * connection is reopened until the deadline; if it stays lost, the last connection error is thrown. Late items of
 * earlier runs seen on the way are counted and returned for cleanup.
 */
async function watchForDelivery<M extends RoundTripItem>(
  run: RoundTripRun<M>,
  id: string,
  deadlineMs: number,
  phase: string,
): Promise<{ found?: M; seenAtMs: number; late: M[] }> {
  const { watcher } = run;
  const late: M[] = [];
  let isOpen = true;
  for (;;) {
    try {
      if (!isOpen) {
        await watcher.open();
        isOpen = true;
      }
      for (const item of await watcher.poll(id, phase)) {
        if (item.id === id) return { found: item, seenAtMs: Date.now(), late };
        if (settle(item, run, Date.now())) late.push(item);
      }
      const left = deadlineMs - Date.now();
      if (left <= 0) return { seenAtMs: Date.now(), late };
      await watcher.wait(Math.min(run.pollIntervalMs, left), phase);
    } catch (error) {
      if (run.signal.aborted || !watcher.isConnectionLoss(error)) throw error;
      // Warn once per lost connection; failed reopen attempts during an outage only at debug.
      if (isOpen) run.logger.warn({ err: error }, "watch connection lost during delivery; reconnecting");
      else run.logger.debug({ err: error }, "watch connection still lost");
      watcher.close();
      isOpen = false;
      const left = deadlineMs - Date.now();
      if (left <= 0) throw error;
      await pause(Math.min(run.pollIntervalMs, left), run.signal, phase);
    }
  }
}

/** Waits `ms` or until the signal aborts (then throws a ProbeError with `phase`). */
export async function pause(ms: number, signal: AbortSignal, phase: string): Promise<void> {
  try {
    await sleep(Math.max(0, ms), undefined, { signal });
  } catch {
    throw new ProbeError("aborted while waiting", { phase }, { cause: signal.reason });
  }
}
