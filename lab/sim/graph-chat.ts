// Simulated Teams chat messages: send, list (newest first, paged with @odata.nextLink), softDelete.
// https://learn.microsoft.com/graph/api/chat-post-messages ; https://learn.microsoft.com/graph/api/chat-list-messages
// https://learn.microsoft.com/graph/api/chatmessage-softdelete ; chatMessage: https://learn.microsoft.com/graph/api/resources/chatmessage
// App-only posting is refused with 401 Unauthorized "Message POST is allowed in application-only context only for
// import purposes" (as reported in microsoftgraph/microsoft-graph-docs-contrib#1914 and MicrosoftDocs/msteams-docs#12852).
import type { SimCore, StoredChatMessage } from "./core.js";
import { authorize } from "./graph-auth.js";
import { graphError, json, parseJson, type SimRoute } from "./http.js";

/** The chatMessage wire shape; a soft-deleted message keeps its id, gains deletedDateTime and loses its body. */
export function chatMessage(core: SimCore, m: StoredChatMessage): Record<string, unknown> {
  const user = core.world.users.find((u) => u.id === m.fromUserId);
  const created = new Date(m.createdAt).toISOString();
  return {
    id: m.id,
    replyToId: null,
    etag: String(m.createdAt),
    messageType: "message",
    createdDateTime: created,
    lastModifiedDateTime: new Date(m.deletedAt ?? m.createdAt).toISOString(),
    lastEditedDateTime: null,
    deletedDateTime: m.deletedAt === undefined ? null : new Date(m.deletedAt).toISOString(),
    subject: null,
    summary: null,
    chatId: m.chatId,
    importance: "normal",
    locale: "en-us",
    webUrl: null,
    channelIdentity: null,
    policyViolation: null,
    eventDetail: null,
    from: {
      application: null,
      device: null,
      user: {
        "@odata.type": "#microsoft.graph.teamworkUserIdentity",
        id: m.fromUserId ?? null,
        displayName: user?.displayName ?? null,
        userIdentityType: "aadUser",
        tenantId: core.world.tenantId,
      },
    },
    body: { contentType: m.contentType, content: m.deletedAt === undefined ? m.content : "" },
    attachments: [],
    mentions: [],
    reactions: [],
  };
}

const chatNotFound = () => graphError(404, "NotFound", "Resource not found for the segment 'chats'.");

/** Chat message routes. */
export const chatRoutes: SimRoute[] = [
  {
    method: "POST",
    pattern: /^\/v1\.0\/chats\/([^/]+)\/messages$/,
    endpoint: "graph.chat.post",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, {
        delegated: ["ChatMessage.Send", "Chat.ReadWrite", "Group.ReadWrite.All"],
        appOnlyReply: () =>
          graphError(
            401,
            "Unauthorized",
            "Message POST is allowed in application-only context only for import purposes. Refer to https://docs.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams for more details.",
          ),
      });
      if (!auth.isAllowed) return auth.reply;
      const chatId = ctx.params[0] ?? "";
      if (!ctx.core.chats.has(chatId)) return chatNotFound();
      const body = parseJson(req.body.toString("utf8")) as { body?: { content?: unknown; contentType?: unknown } };
      if (typeof body?.body?.content !== "string" || body.body.content === "") {
        return graphError(400, "BadRequest", "Message body cannot be empty.");
      }
      const now = ctx.core.now();
      const seq = ctx.core.nextSeq();
      const message: StoredChatMessage = {
        id: `${now}${String(seq % 10_000).padStart(4, "0")}`,
        chatId,
        seq,
        content: body.body.content,
        contentType: body.body.contentType === "html" ? "html" : "text",
        createdAt: now,
        deletedAt: undefined,
        fromUserId: auth.token.userId,
        isHidden: ctx.faults.some((f) => f.type === "neverVisible"),
      };
      ctx.core.chatMessages.set(message.id, message);
      return json(201, {
        "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#chats('${chatId}')/messages/$entity`,
        ...chatMessage(ctx.core, message),
      });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\.0\/chats\/([^/]+)\/messages$/,
    endpoint: "graph.chat.list",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, {
        delegated: ["Chat.Read", "Chat.ReadWrite"],
        application: ["Chat.Read.All", "Chat.ReadWrite.All"],
      });
      if (!auth.isAllowed) return auth.reply;
      const chatId = ctx.params[0] ?? "";
      if (!ctx.core.chats.has(chatId)) return chatNotFound();
      const topParam = req.url.searchParams.get("$top");
      const top = topParam === null ? 20 : Number(topParam);
      if (!Number.isInteger(top) || top < 1 || top > 50) {
        return graphError(400, "BadRequest", "Invalid $top value. Value must be between 1 and 50.");
      }
      const before = Number(req.url.searchParams.get("$skiptoken") ?? Infinity);
      const all = [...ctx.core.chatMessages.values()]
        .filter((m) => m.chatId === chatId && !m.isHidden && m.seq < before)
        .sort((a, b) => b.seq - a.seq);
      const page = all.slice(0, top);
      const body: Record<string, unknown> = {
        "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#chats('${chatId}')/messages`,
        "@odata.count": page.length,
        value: page.map((m) => chatMessage(ctx.core, m)),
      };
      const last = page.at(-1);
      if (all.length > top && last !== undefined) {
        const next = new URL(`${ctx.core.baseUrl}${req.url.pathname}`);
        next.searchParams.set("$top", String(top));
        next.searchParams.set("$skiptoken", String(last.seq));
        body["@odata.nextLink"] = next.toString();
      }
      return json(200, body);
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\.0\/users\/([^/]+)\/chats\/([^/]+)\/messages\/([^/]+)\/softDelete$/,
    endpoint: "graph.chat.softDelete",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, { delegated: ["Chat.ReadWrite"] });
      if (!auth.isAllowed) return auth.reply;
      const [, chatId = "", messageId = ""] = ctx.params;
      const message = ctx.core.chatMessages.get(messageId);
      if (message?.chatId !== chatId) return graphError(404, "NotFound", "Message not found.");
      message.deletedAt ??= ctx.core.now();
      return { status: 204 };
    },
  },
];
