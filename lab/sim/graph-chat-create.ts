// Simulated chat and online-meeting creation and removal (what failed on 22 January 2026 while posting worked).
// https://learn.microsoft.com/graph/api/chat-post ; https://learn.microsoft.com/graph/api/chat-delete
// https://learn.microsoft.com/graph/api/application-post-onlinemeetings ; https://learn.microsoft.com/graph/api/onlinemeeting-delete
import { randomUUID } from "node:crypto";
import type { StoredChat, StoredMeeting } from "./core.js";
import { authorize } from "./graph-auth.js";
import { graphError, json, parseJson, type SimRoute } from "./http.js";

const CHAT_TYPES = ["oneOnOne", "group"] as const;

/** Chat create/delete and online meeting routes. */
export const chatCreateRoutes: SimRoute[] = [
  {
    method: "POST",
    pattern: /^\/v1\.0\/chats$/,
    endpoint: "graph.chat.create",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, {
        delegated: ["Chat.Create", "Chat.ReadWrite"],
        application: ["Chat.Create", "Chat.ReadWrite.All"],
      });
      if (!auth.isAllowed) return auth.reply;
      const body = parseJson(req.body.toString("utf8")) as
        { chatType?: unknown; topic?: unknown; members?: { "user@odata.bind"?: unknown }[] } | undefined;
      if (!(CHAT_TYPES as readonly unknown[]).includes(body?.chatType)) {
        return graphError(400, "BadRequest", "chatType must be 'oneOnOne' or 'group'.");
      }
      const members = Array.isArray(body?.members) ? body.members : [];
      if (members.length < 2 || (body?.chatType === "oneOnOne" && members.length !== 2)) {
        return graphError(400, "BadRequest", "A chat needs at least two members (exactly two for oneOnOne).");
      }
      const now = ctx.core.now();
      const chat: StoredChat = {
        id: `19:${randomUUID().replaceAll("-", "")}@thread.v2`,
        chatType: String(body?.chatType),
        topic: typeof body?.topic === "string" ? body.topic : null,
        createdAt: now,
        memberIds: members.map((m) => (typeof m["user@odata.bind"] === "string" ? m["user@odata.bind"] : "")),
      };
      ctx.core.chats.set(chat.id, chat);
      return json(201, {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats/$entity",
        id: chat.id,
        topic: chat.topic,
        createdDateTime: new Date(now).toISOString(),
        lastUpdatedDateTime: new Date(now).toISOString(),
        chatType: chat.chatType,
        webUrl: `${ctx.core.baseUrl}/l/chat/${encodeURIComponent(chat.id)}/0`,
        tenantId: ctx.core.world.tenantId,
        isHiddenForAllMembers: false,
      });
    },
  },
  {
    method: "DELETE",
    pattern: /^\/v1\.0\/chats\/([^/]+)$/,
    endpoint: "graph.chat.delete",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, {
        delegated: ["Chat.ManageDeletion.All"],
        application: ["Chat.ManageDeletion.Chat", "Chat.ManageDeletion.All"],
      });
      if (!auth.isAllowed) return auth.reply;
      const chatId = ctx.params[0] ?? "";
      if (!ctx.core.chats.delete(chatId)) return graphError(404, "NotFound", "Chat not found.");
      for (const m of [...ctx.core.chatMessages.values()]) if (m.chatId === chatId) ctx.core.chatMessages.delete(m.id);
      return { status: 204 };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\.0\/users\/([^/]+)\/onlineMeetings$/,
    endpoint: "graph.meeting.create",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, {
        delegated: ["OnlineMeetings.ReadWrite"],
        application: ["OnlineMeetings.ReadWrite.All"],
      });
      if (!auth.isAllowed) return auth.reply;
      const userId = ctx.params[0] ?? "";
      if (!ctx.core.world.users.some((u) => u.id === userId || u.userPrincipalName === userId)) {
        return graphError(404, "NotFound", "User not found.");
      }
      const body = (parseJson(req.body.toString("utf8")) ?? {}) as Record<string, unknown>;
      const now = ctx.core.now();
      const meeting: StoredMeeting = {
        id: `MSo${randomUUID().replaceAll("-", "")}`,
        userId,
        subject: typeof body["subject"] === "string" ? body["subject"] : null,
        createdAt: now,
        startDateTime: typeof body["startDateTime"] === "string" ? body["startDateTime"] : new Date(now).toISOString(),
        endDateTime:
          typeof body["endDateTime"] === "string" ? body["endDateTime"] : new Date(now + 3_600_000).toISOString(),
      };
      ctx.core.meetings.set(meeting.id, meeting);
      const threadId = `19:meeting_${meeting.id.slice(3, 27)}@thread.v2`;
      return json(201, {
        "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#users('${userId}')/onlineMeetings/$entity`,
        id: meeting.id,
        creationDateTime: new Date(now).toISOString(),
        startDateTime: meeting.startDateTime,
        endDateTime: meeting.endDateTime,
        subject: meeting.subject,
        joinWebUrl: `${ctx.core.baseUrl}/l/meetup-join/${encodeURIComponent(threadId)}/0`,
        chatInfo: { threadId, messageId: "0", replyChainMessageId: null },
        participants: { organizer: { upn: userId, role: "presenter" }, attendees: [] },
      });
    },
  },
  {
    method: "DELETE",
    pattern: /^\/v1\.0\/users\/([^/]+)\/onlineMeetings\/([^/]+)$/,
    endpoint: "graph.meeting.delete",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, {
        delegated: ["OnlineMeetings.ReadWrite"],
        application: ["OnlineMeetings.ReadWrite.All"],
      });
      if (!auth.isAllowed) return auth.reply;
      if (!ctx.core.meetings.delete(ctx.params[1] ?? "")) return graphError(404, "NotFound", "Meeting not found.");
      return { status: 204 };
    },
  },
];
