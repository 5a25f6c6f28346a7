/**
 * Kind `drive_search`: search one OneDrive/SharePoint drive (`GET /v1.0/drives/{drive-id}/root/search(q='…')`),
 * asserting on a long-lived seeded document like `graph_search`. Needs no `region`, even app-only.
 * https://learn.microsoft.com/graph/api/driveitem-search
 */
import { z } from "zod";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { HTTP_CREDENTIALS } from "./wire/entra/credential.js";
import {
  indexLagSchema,
  INDEX_LAG_PHASES,
  indexLagTimeoutMs,
  measureIndexLag,
  type FoundFile,
  type IndexLagState,
} from "./wire/graph/index-lag.js";
import {
  assertSearch,
  SEARCH_HITS_FACT,
  SEARCH_INDEX_LAG_FACT,
  SEARCH_RANK_FACT,
  searchExpectSchema,
} from "./wire/graph/search.js";
import { graphCall, graphFields, graphTarget, graphThrottleScope } from "./wire/graph/settings.js";
import { HTTP_FACTS, jsonObject } from "./wire/http/api.js";

/** Pages read at most; a bound against an endless pager. */
const MAX_PAGES = 5;

const settingsSchema = z.strictObject({
  ...graphFields,
  drive_id: z.string().min(1).describe("The drive to search (`b!…`; GET /sites/{site-id}/drive or /users/{id}/drive)."),
  query: z.string().min(1).max(1000).describe("The search text, e.g. the seeded document's name."),
  top: z.number().int().min(1).max(1000).default(50).describe("Items read (the expected file must be within them)."),
  expect: searchExpectSchema,
  index_lag: indexLagSchema
    .omit({ drive_id: true })
    .optional()
    .describe("Optional index-lag mode in this drive: upload a unique file, query until it appears, delete it."),
});

type Settings = z.output<typeof settingsSchema>;

/** Drive items matching `query`, following @odata.nextLink on the Graph host up to `top` items. */
async function search(ctx: ProbeContext<Settings, IndexLagState>, query: string, step: string): Promise<FoundFile[]> {
  const { settings } = ctx;
  const q = encodeURIComponent(query.replaceAll("'", "''"));
  let path: string | undefined =
    `/v1.0/drives/${encodeURIComponent(settings.drive_id)}/root/search(q='${q}')?$top=${settings.top}`;
  const found: FoundFile[] = [];
  for (let page = 0; path !== undefined && page < MAX_PAGES && found.length < settings.top; page++) {
    const body = jsonObject(await graphCall(ctx, step, { path }), "drive search response", step);
    const items = Array.isArray(body["value"]) ? (body["value"] as Record<string, unknown>[]) : [];
    for (const item of items) {
      const { name, id } = item;
      found.push({ name: typeof name === "string" ? name : "", id: typeof id === "string" ? id : "" });
    }
    const next = body["@odata.nextLink"];
    // Only a link on our own Graph host is followed: a token must not be sent anywhere else.
    path =
      typeof next === "string" && next.startsWith(`${settings.graph_url}/`)
        ? next.slice(settings.graph_url.length)
        : undefined;
  }
  return found.slice(0, settings.top);
}

async function run(ctx: ProbeContext<Settings, IndexLagState>): Promise<void> {
  const files = await search(ctx, ctx.settings.query, "query");
  const hits = files.map((f, i) => ({ name: f.name, rank: i + 1 }));
  assertSearch(ctx.facts, ctx.settings.expect, { total: hits.length, hits }, "query");
  const lag = ctx.settings.index_lag;
  if (lag !== undefined) {
    await measureIndexLag(ctx, { ...lag, drive_id: ctx.settings.drive_id }, (term) => search(ctx, term, "lag_query"));
  }
}

/** The `drive_search` probe kind. */
export const driveSearchKind = defineKind<Settings, IndexLagState>({
  id: "drive_search",
  title: "OneDrive/SharePoint drive search (root/search): hits, rank of a seeded document, optional index lag",
  settingsSchema,
  isSettingsOptional: false,
  phases: ["auth", "query", ...INDEX_LAG_PHASES],
  facts: [SEARCH_HITS_FACT, SEARCH_RANK_FACT, SEARCH_INDEX_LAG_FACT, ...HTTP_FACTS],
  target: { type: "none", label: graphTarget },
  credentials: HTTP_CREDENTIALS,
  credentialOf: (s) => s.credential,
  throttleScope: graphThrottleScope,
  minTimeoutMs: (s) =>
    s.index_lag === undefined
      ? undefined
      : { ms: indexLagTimeoutMs(s.index_lag), why: "index_lag.max_lag plus time to upload and delete" },
  createState: () => ({ pending: new Map() }),
  run,
});
