/**
 * Index-lag mode of the search kinds: upload a small uniquely named file (Graph `PUT
 * /drives/{id}/items/root:/{path}:/content`), query until search finds it or a deadline passes, delete it. Reported as
 * `probe_search_index_lag_seconds`; never a search failure (new files take minutes to hours to appear, which is how
 * the index works, not an outage). Files of earlier runs whose delete failed are deleted by exact probe id: by the
 * item id kept in the check's state, or, after a restart, when a lag query finds a file of this check by its name.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { duration } from "../../../src/core/duration.js";
import type { ProbeContext } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { jsonObject } from "../http/api.js";
import { checkHash, newProbeId, parseProbeId } from "../roundtrip/probe-id.js";
import { SEARCH_INDEX_LAG_FACT } from "./search.js";
import { graphCall, type GraphSettings } from "./settings.js";

/** Phases of index-lag mode. */
export const INDEX_LAG_PHASES = ["upload", "lag_query", "cleanup"] as const;

/** The `index_lag` block. */
export const indexLagSchema = z
  .strictObject({
    drive_id: z.string().min(1).describe("Drive to upload the probe file to (needs Files.ReadWrite.All)."),
    folder: z
      .string()
      .regex(/^[A-Za-z0-9_ .-]+(?:\/[A-Za-z0-9_ .-]+)*$/, { message: "must be a folder path like suiteprobe/lag" })
      .default("suiteprobe-index-lag")
      .describe("Folder of the probe files in that drive."),
    max_lag: duration
      .default(60_000)
      .describe('How long to query for the new file (within the run\'s timeout), e.g. "60s".'),
    poll_interval: duration.default(5_000).describe("Pause between queries for the new file."),
  })
  .describe("Optional index-lag mode: upload a unique file, query until it appears, delete it.");

/** The parsed `index_lag` block. */
export type IndexLagSettings = z.output<typeof indexLagSchema>;

/** Probe files of this check not yet deleted: probe id → drive item id. */
export interface IndexLagState {
  readonly pending: Map<string, string>;
}

/** A file a lag query found. */
export interface FoundFile {
  name: string;
  id: string;
}

/** Files of another agent running the same check are left alone until they are this much older than `max_lag`. */
const LEFTOVER_GRACE_MS = 60_000;
const PENDING_MAX = 100;

/** The least check timeout index-lag mode needs: the query window plus upload and delete. */
export function indexLagTimeoutMs(settings: Pick<IndexLagSettings, "max_lag">): number {
  return settings.max_lag + 5_000;
}

/** Measures index lag once; every failure is logged and leaves the fact unreported. */
export async function measureIndexLag(
  ctx: ProbeContext<GraphSettings, IndexLagState>,
  lag: IndexLagSettings,
  find: (term: string) => Promise<FoundFile[]>,
): Promise<void> {
  const { state } = ctx;
  await deletePending(ctx, lag);
  const id = newProbeId(ctx.check, Date.now());
  const name = `${id}.txt`;
  let uploadedAt: number;
  try {
    const response = await graphCall(ctx, "upload", {
      path: `/v1.0/drives/${encodeURIComponent(lag.drive_id)}/items/root:/${encodePath(`${lag.folder}/${name}`)}:/content`,
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: `suiteprobe index-lag probe ${id}\n`,
    });
    uploadedAt = Date.now();
    const itemId = jsonObject(response, "upload response", "upload")["id"];
    if (typeof itemId !== "string") throw new ProbeError("upload response has no item id", { phase: "upload" });
    remember(state, id, itemId);
  } catch (error) {
    ctx.logger.warn({ err: error }, "index lag: upload failed; no index-lag figure this run");
    return;
  }
  // Leave time to delete the file before the run's deadline.
  const until = Math.min(uploadedAt + lag.max_lag, ctx.deadline - Math.min(3_000, (ctx.deadline - uploadedAt) / 4));
  try {
    for (;;) {
      const files = await find(`sp-${checkHash(ctx.check)}`);
      if (files.some((f) => f.name === name)) {
        ctx.facts.set(SEARCH_INDEX_LAG_FACT, (Date.now() - uploadedAt) / 1000);
      }
      adoptLeftovers(ctx, lag, files, id);
      if (ctx.facts.get(SEARCH_INDEX_LAG_FACT) !== undefined) break;
      if (Date.now() + lag.poll_interval >= until) {
        ctx.logger.info({ max_lag_seconds: lag.max_lag / 1000 }, "index lag: the new file was not found in time");
        break;
      }
      await sleep(lag.poll_interval, undefined, { signal: ctx.signal });
    }
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    ctx.logger.warn({ err: error }, "index lag: a query failed; no index-lag figure this run");
  }
  await deletePending(ctx, lag);
}

/** Files of this check found by name from earlier runs (older than the grace) become pending deletes. */
function adoptLeftovers(
  ctx: ProbeContext<GraphSettings, IndexLagState>,
  lag: IndexLagSettings,
  files: readonly FoundFile[],
  current: string,
): void {
  const hash = checkHash(ctx.check);
  for (const file of files) {
    const probeId = file.name.replace(/\.txt$/, "");
    const parsed = parseProbeId(probeId);
    if (parsed?.checkHash !== hash || probeId === current || ctx.state.pending.has(probeId)) continue;
    if (parsed.sentAtMs > Date.now() - lag.max_lag - LEFTOVER_GRACE_MS) continue;
    remember(ctx.state, probeId, file.id);
  }
}

function remember(state: IndexLagState, probeId: string, itemId: string): void {
  state.pending.set(probeId, itemId);
  // Oldest first: a drive that refuses every delete must not grow the state without bound.
  for (const old of state.pending.keys()) {
    if (state.pending.size <= PENDING_MAX) break;
    state.pending.delete(old);
  }
}

/** Deletes every pending probe file by item id; one that is already gone is forgotten, a refused one kept. */
async function deletePending(ctx: ProbeContext<GraphSettings, IndexLagState>, lag: IndexLagSettings): Promise<void> {
  for (const [probeId, itemId] of [...ctx.state.pending]) {
    try {
      await graphCall(ctx, "cleanup", {
        path: `/v1.0/drives/${encodeURIComponent(lag.drive_id)}/items/${encodeURIComponent(itemId)}`,
        method: "DELETE",
        expectStatus: [204, 404],
      });
      ctx.state.pending.delete(probeId);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      ctx.logger.warn({ err: error, probe_id: probeId }, "index lag: delete failed; retried next run");
    }
  }
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
