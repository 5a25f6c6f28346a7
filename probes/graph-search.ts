/**
 * Kind `graph_search`: Microsoft Search over Graph (`POST /v1.0/search/query`), asserting on a long-lived seeded
 * document: at least N hits, the named file among them, its rank. https://learn.microsoft.com/graph/api/search-query
 *
 * With application permissions Graph requires `region` (400 "Region is required when request with application
 * permission"; https://learn.microsoft.com/graph/search-concept-searchall): config load refuses an app-only
 * credential without it, so the 400 is never a run's surprise.
 */
import { z } from "zod";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { HTTP_CREDENTIALS } from "./wire/entra/credential.js";
import { HTTP_FACTS, jsonObject } from "./wire/http/api.js";
import { graphCall, graphFields, graphTarget, graphThrottleScope } from "./wire/graph/settings.js";
import {
  indexLagSchema,
  INDEX_LAG_PHASES,
  indexLagTimeoutMs,
  measureIndexLag,
  type IndexLagState,
} from "./wire/graph/index-lag.js";
import {
  assertSearch,
  SEARCH_HITS_FACT,
  SEARCH_INDEX_LAG_FACT,
  SEARCH_RANK_FACT,
  searchExpectSchema,
  type SearchHit,
} from "./wire/graph/search.js";

const ENTITY_TYPES = ["driveItem", "listItem", "site"] as const;

const settingsSchema = z.strictObject({
  ...graphFields,
  query: z.string().min(1).max(1000).describe("The search query (KQL), e.g. the seeded document's name."),
  region: z
    .string()
    .regex(/^[A-Z]{3}$/, { message: "must be a three-letter region code such as NAM, EUR, APC" })
    .optional()
    .describe(
      "Geography of the tenant's data (NAM, EUR, APC, GBR, …). Required when the credential is app-only; see the " +
        "README for how to find it.",
    ),
  entity_types: z
    .array(z.enum(ENTITY_TYPES))
    .min(1)
    .default(["driveItem"])
    .describe("What to search: driveItem (files, default), listItem or site."),
  size: z.number().int().min(1).max(500).default(25).describe("Hits read (the expected file must rank within them)."),
  expect: searchExpectSchema,
  index_lag: indexLagSchema.optional(),
});

type Settings = z.output<typeof settingsSchema>;

/** The first hits container of a search response, read leniently: Graph omits empty fields. */
function readHits(body: Record<string, unknown>): { total: number; hits: (SearchHit & { id: string })[] } {
  const value = Array.isArray(body["value"]) ? (body["value"] as Record<string, unknown>[]) : [];
  const container = (value[0]?.["hitsContainers"] as Record<string, unknown>[] | undefined)?.[0];
  const rawHits = Array.isArray(container?.["hits"]) ? (container["hits"] as Record<string, unknown>[]) : [];
  const hits = rawHits.map((hit, i) => {
    const resource = (hit["resource"] ?? {}) as Record<string, unknown>;
    const name = typeof resource["name"] === "string" ? resource["name"] : "";
    const id = typeof resource["id"] === "string" ? resource["id"] : "";
    return { name, id, rank: typeof hit["rank"] === "number" ? hit["rank"] : i + 1 };
  });
  const total = typeof container?.["total"] === "number" ? container["total"] : hits.length;
  return { total, hits };
}

/** One search request; resolves with its hits. */
async function search(
  ctx: ProbeContext<Settings, IndexLagState>,
  query: string,
  step: string,
  entityTypes: readonly string[] = ctx.settings.entity_types,
) {
  const { settings } = ctx;
  const response = await graphCall(ctx, step, {
    path: "/v1.0/search/query",
    method: "POST",
    json: {
      requests: [
        {
          entityTypes,
          query: { queryString: query },
          from: 0,
          size: settings.size,
          ...(settings.region === undefined ? {} : { region: settings.region }),
        },
      ],
    },
  });
  return readHits(jsonObject(response, "search response", step));
}

async function run(ctx: ProbeContext<Settings, IndexLagState>): Promise<void> {
  const result = await search(ctx, ctx.settings.query, "query");
  assertSearch(ctx.facts, ctx.settings.expect, result, "query");
  const lag = ctx.settings.index_lag;
  if (lag !== undefined) {
    // Probe files are drive items whatever the check searches for: their ids are what a delete needs.
    await measureIndexLag(ctx, lag, async (term) => (await search(ctx, term, "lag_query", ["driveItem"])).hits);
  }
}

/** The `graph_search` probe kind. */
export const graphSearchKind = defineKind<Settings, IndexLagState>({
  id: "graph_search",
  title: "Microsoft Graph search (search/query): hits, rank of a seeded document, optional index lag",
  settingsSchema,
  isSettingsOptional: false,
  phases: ["auth", "query", ...INDEX_LAG_PHASES],
  facts: [SEARCH_HITS_FACT, SEARCH_RANK_FACT, SEARCH_INDEX_LAG_FACT, ...HTTP_FACTS],
  target: { type: "none", label: graphTarget },
  credentials: HTTP_CREDENTIALS,
  credentialOf: (s) => s.credential,
  throttleScope: graphThrottleScope,
  settingsProblems(settings, { credential }) {
    if (credential?.isAppOnly === true && settings.region === undefined) {
      return [
        `region: is required: credential "${credential.name}" signs in app-only (${credential.type}), and Graph ` +
          "search with application permissions needs the tenant's region (NAM, EUR, APC, …)",
      ];
    }
    return [];
  },
  minTimeoutMs: (s) =>
    s.index_lag === undefined
      ? undefined
      : { ms: indexLagTimeoutMs(s.index_lag), why: "index_lag.max_lag plus time to upload and delete" },
  createState: () => ({ pending: new Map() }),
  run,
});
