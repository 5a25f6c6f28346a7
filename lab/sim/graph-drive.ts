// Simulated OneDrive/SharePoint drive API: search, simple upload, delete.
// https://learn.microsoft.com/graph/api/driveitem-search ; https://learn.microsoft.com/graph/api/driveitem-put-content
// https://learn.microsoft.com/graph/api/driveitem-delete ; paging: https://learn.microsoft.com/graph/paging
import { randomBytes } from "node:crypto";
import type { RouteContext, SimReply, SimRoute } from "./http.js";
import { graphError, json } from "./http.js";
import { authorize } from "./graph-auth.js";
import { driveItem, FILE_READ, visibleFiles } from "./graph-search.js";

const FILE_WRITE = {
  delegated: ["Files.ReadWrite", "Files.ReadWrite.All", "Sites.ReadWrite.All"],
  application: ["Files.ReadWrite.All", "Sites.ReadWrite.All"],
} as const;

function unknownDrive(ctx: RouteContext, driveId: string): SimReply | undefined {
  return driveId === ctx.core.world.driveId
    ? undefined
    : graphError(404, "itemNotFound", "The requested resource doesn't exist.");
}

/** Drive routes. */
export const driveRoutes: SimRoute[] = [
  {
    method: "GET",
    pattern: /^\/v1\.0\/drives\/([^/]+)\/root\/search\(q='(.*)'\)$/,
    endpoint: "graph.drive.search",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, FILE_READ);
      if (!auth.isAllowed) return auth.reply;
      const [driveId = "", rawQuery = ""] = ctx.params;
      const missing = unknownDrive(ctx, driveId);
      if (missing !== undefined) return missing;
      const q = rawQuery.replaceAll("''", "'");
      const top = Math.min(Number(req.url.searchParams.get("$top") ?? 200) || 200, 1000);
      const skip = Number(req.url.searchParams.get("$skiptoken") ?? "0") || 0;
      const files = visibleFiles(ctx.core, ctx.faults, q.split(/\s+/));
      const page = files.slice(skip, skip + top);
      const body: Record<string, unknown> = { value: page.map((f) => driveItem(ctx.core, f)) };
      if (skip + top < files.length) {
        const next = new URL(`${ctx.core.baseUrl}${req.url.pathname}`);
        next.searchParams.set("$top", String(top));
        next.searchParams.set("$skiptoken", String(skip + top));
        body["@odata.nextLink"] = next.toString();
      }
      return json(200, body);
    },
  },
  {
    method: "PUT",
    pattern: /^\/v1\.0\/drives\/([^/]+)\/items\/root:\/(.+):\/content$/,
    endpoint: "graph.drive.upload",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, FILE_WRITE);
      if (!auth.isAllowed) return auth.reply;
      const [driveId = "", path = ""] = ctx.params;
      const missing = unknownDrive(ctx, driveId);
      if (missing !== undefined) return missing;
      const segments = path.split("/").filter((s) => s.length > 0);
      const name = segments.pop() ?? "";
      if (name === "") return graphError(400, "invalidRequest", "The item name is empty.");
      const folder = segments.join("/");
      const now = ctx.core.now();
      const existing = [...ctx.core.files.values()].find((f) => f.name === name && f.folder === folder);
      if (existing !== undefined) {
        existing.size = req.body.length;
        existing.modifiedAt = now;
        return json(200, driveItem(ctx.core, existing));
      }
      const file = {
        id: `01SIM${randomBytes(14).toString("hex").toUpperCase()}`,
        name,
        folder,
        size: req.body.length,
        createdAt: now,
        modifiedAt: now,
        mimeType: "application/octet-stream",
      };
      ctx.core.files.set(file.id, file);
      return json(201, driveItem(ctx.core, file));
    },
  },
  {
    method: "DELETE",
    pattern: /^\/v1\.0\/drives\/([^/]+)\/items\/([^/:]+)$/,
    endpoint: "graph.drive.delete",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, FILE_WRITE);
      if (!auth.isAllowed) return auth.reply;
      const [driveId = "", itemId = ""] = ctx.params;
      const missing = unknownDrive(ctx, driveId);
      if (missing !== undefined) return missing;
      if (!ctx.core.files.delete(itemId)) return graphError(404, "itemNotFound", "The resource could not be found.");
      ctx.core.seededIds.delete(itemId);
      return { status: 204 };
    },
  },
];
