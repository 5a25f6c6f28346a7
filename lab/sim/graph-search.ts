// Simulated Microsoft Search API: POST /v1.0/search/query (driveItem, listItem, site).
// https://learn.microsoft.com/graph/api/search-query ; https://learn.microsoft.com/graph/search-concept-files
// Region with application permissions: https://learn.microsoft.com/graph/search-concept-searchall
import type { SimCore, StoredFile } from "./core.js";
import type { SimFault } from "./faults.js";
import { authorize } from "./graph-auth.js";
import { graphError, json, parseJson, type SimRoute } from "./http.js";

/** Permissions the search and drive-search APIs accept. */
export const FILE_READ = {
  delegated: ["Files.Read", "Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"],
  application: ["Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"],
} as const;

const ENTITY_TYPES = ["driveItem", "listItem", "site"] as const;

/** Files the index shows now: matching the terms, past the index lag, and none at all under `noHits`. */
export function visibleFiles(core: SimCore, faults: SimFault[], terms: string[]): StoredFile[] {
  if (faults.some((f) => f.type === "noHits")) return [];
  const lag = faults.reduce((max, f) => (f.type === "indexLag" ? Math.max(max, f.seconds) : max), 0);
  const now = core.now();
  const wanted = terms.map((t) => t.toLowerCase().replace(/^"|"$/g, "")).filter((t) => t.length > 0);
  return [...core.files.values()]
    .filter((f) => now - f.createdAt >= lag * 1000)
    .filter((f) => wanted.length > 0 && wanted.some((t) => f.name.toLowerCase().includes(t)))
    .sort((a, b) => b.modifiedAt - a.modifiedAt);
}

/** The driveItem wire shape of a stored file. */
export function driveItem(core: SimCore, file: StoredFile): Record<string, unknown> {
  const path = file.folder === "" ? file.name : `${file.folder}/${file.name}`;
  return {
    "@odata.type": "#microsoft.graph.driveItem",
    id: file.id,
    name: file.name,
    size: file.size,
    createdDateTime: new Date(file.createdAt).toISOString(),
    lastModifiedDateTime: new Date(file.modifiedAt).toISOString(),
    webUrl: `${core.baseUrl}/sites/probe/Shared%20Documents/${encodeURI(path)}`,
    eTag: `"{${file.id}},1"`,
    parentReference: {
      driveId: core.world.driveId,
      driveType: "documentLibrary",
      path: `/drives/${core.world.driveId}/root:${file.folder === "" ? "" : `/${file.folder}`}`,
    },
    file: { mimeType: file.mimeType },
  };
}

/** The search route. */
export const searchRoutes: SimRoute[] = [
  {
    method: "POST",
    pattern: /^\/v1\.0\/search\/query$/,
    endpoint: "graph.search",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, FILE_READ);
      if (!auth.isAllowed) return auth.reply;
      const body = parseJson(req.body.toString("utf8")) as { requests?: unknown } | undefined;
      if (!Array.isArray(body?.requests) || body.requests.length === 0) {
        return graphError(400, "BadRequest", "Requests must contain at least one request.");
      }
      const value: Record<string, unknown>[] = [];
      for (const raw of body.requests as Record<string, unknown>[]) {
        const entityTypes: unknown = raw["entityTypes"];
        const query = raw["query"] as { queryString?: unknown } | undefined;
        if (!Array.isArray(entityTypes) || entityTypes.length === 0) {
          return graphError(400, "BadRequest", "EntityTypes must be specified.");
        }
        const unknownType: unknown = (entityTypes as unknown[]).find(
          (t) => !(ENTITY_TYPES as readonly unknown[]).includes(t),
        );
        if (unknownType !== undefined) {
          return graphError(
            400,
            "BadRequest",
            `Requested entity type '${JSON.stringify(unknownType)}' is not supported.`,
          );
        }
        if (typeof query?.queryString !== "string") {
          return graphError(400, "BadRequest", "QueryString must be specified.");
        }
        if (auth.token.isAppOnly && typeof raw["region"] !== "string") {
          return graphError(400, "BadRequest", "Region is required when request with application permission.");
        }
        const from = typeof raw["from"] === "number" ? raw["from"] : 0;
        const size = Math.min(typeof raw["size"] === "number" ? raw["size"] : 25, 500);
        const terms = query.queryString.split(/\s+/);
        const type = entityTypes[0] as (typeof ENTITY_TYPES)[number];
        const files = type === "site" ? [] : visibleFiles(ctx.core, ctx.faults, terms);
        const page = files.slice(from, from + size);
        value.push({
          searchTerms: terms,
          hitsContainers: [
            {
              hits: page.map((file, i) => ({
                hitId: file.id,
                rank: from + i + 1,
                summary: `<c0>${file.name}</c0><ddd/>`,
                resource:
                  type === "driveItem"
                    ? driveItem(ctx.core, file)
                    : { ...driveItem(ctx.core, file), "@odata.type": "#microsoft.graph.listItem" },
              })),
              total: files.length,
              moreResultsAvailable: from + size < files.length,
            },
          ],
        });
      }
      return json(200, {
        value,
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.searchResponse)",
      });
    },
  },
];
