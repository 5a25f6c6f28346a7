// Simulated Slack Web API (chat.postMessage, conversations.history/replies, chat.delete) and Slack Status API.
// https://docs.slack.dev/reference/methods/chat.postMessage ; https://docs.slack.dev/reference/methods/conversations.history
// https://docs.slack.dev/reference/methods/conversations.replies ; https://docs.slack.dev/reference/methods/chat.delete
// Errors and rate limits: https://docs.slack.dev/apis/web-api/#responses ; https://docs.slack.dev/apis/web-api/rate-limits
// Status API v2.0.0: https://docs.slack.dev/reference/slack-status-api
import type { SimCore, SlackIncident, StoredSlackMessage } from "./core.js";
import type { SimSlackBot } from "./state.js";
import {
  headerValue,
  json,
  params,
  slackError,
  type RouteContext,
  type SimReply,
  type SimRequest,
  type SimRoute,
} from "./http.js";

const APP_ID = "A0SIMAPP01";

function bot(req: SimRequest, form: URLSearchParams, ctx: RouteContext): SimSlackBot | SimReply {
  const header = headerValue(req, "authorization");
  const token = header?.replace(/^Bearer\s+/i, "") ?? form.get("token");
  if (token === null || token === "") return slackError("not_authed");
  return ctx.core.world.slack.bots.find((b) => b.token === token) ?? slackError("invalid_auth");
}

function channelFor(form: URLSearchParams, ctx: RouteContext, who: SimSlackBot): string | SimReply {
  const channel = form.get("channel");
  if (channel === null || !ctx.core.world.slack.channels.includes(channel)) return slackError("channel_not_found");
  if (!who.channels.includes(channel)) return slackError("not_in_channel");
  return channel;
}

function wire(core: SimCore, m: StoredSlackMessage): Record<string, unknown> {
  const replies = m.threadTs === undefined ? [] : threadOf(core, m.channel, m.ts).slice(1);
  return {
    type: "message",
    user: m.userId,
    bot_id: m.botId,
    app_id: APP_ID,
    text: m.text,
    ts: m.ts,
    team: core.world.slack.teamId,
    ...(m.threadTs === undefined ? {} : { thread_ts: m.threadTs }),
    ...(m.threadTs === m.ts ? { reply_count: replies.length } : {}),
  };
}

function threadOf(core: SimCore, channel: string, threadTs: string): StoredSlackMessage[] {
  return [...core.slackMessages.values()]
    .filter((m) => m.channel === channel && !m.isHidden && (m.ts === threadTs || m.threadTs === threadTs))
    .sort((a, b) => Number(a.ts) - Number(b.ts));
}

/** The restricted-tier budget (1 request/min per token); a reply when the caller must wait. */
function historyBudget(req: SimRequest, form: URLSearchParams, ctx: RouteContext): SimReply | undefined {
  if (!ctx.core.world.slack.isHistoryRestricted) return undefined;
  const key = headerValue(req, "authorization") ?? form.get("token") ?? "";
  const now = ctx.core.now();
  const next = ctx.core.slackHistoryNextAllowed.get(key) ?? 0;
  if (now < next) return slackError("ratelimited", 429, Math.ceil((next - now) / 1000));
  ctx.core.slackHistoryNextAllowed.set(key, now + 60_000);
  return undefined;
}

function limitOf(form: URLSearchParams, ctx: RouteContext, fallback: number): number {
  const max = ctx.core.world.slack.isHistoryRestricted ? 15 : 999;
  const asked = Number(form.get("limit") ?? (ctx.core.world.slack.isHistoryRestricted ? 15 : fallback));
  return Math.max(1, Math.min(Number.isFinite(asked) ? asked : fallback, max));
}

const cursorOf = (ts: string) => Buffer.from(`next_ts:${ts.replace(".", "")}`).toString("base64");
const tsOfCursor = (cursor: string) => {
  const digits = /^next_ts:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"))?.[1];
  return digits === undefined ? undefined : Number(`${digits.slice(0, -6)}.${digits.slice(-6)}`);
};

function history(req: SimRequest, ctx: RouteContext): SimReply {
  const form = params(req);
  const who = bot(req, form, ctx);
  if ("status" in who) return who;
  const channel = channelFor(form, ctx, who);
  if (typeof channel !== "string") return channel;
  const throttled = historyBudget(req, form, ctx);
  if (throttled !== undefined) return throttled;
  const isInclusive = form.get("inclusive") === "true" || form.get("inclusive") === "1";
  const oldest = Number(form.get("oldest") ?? "0");
  const cursor = form.get("cursor");
  const latestParam = Number(form.get("latest") ?? Infinity);
  const latest = cursor === null || cursor === "" ? latestParam : (tsOfCursor(cursor) ?? latestParam);
  const isCursorPage = cursor !== null && cursor !== "";
  const limit = limitOf(form, ctx, 100);
  const all = [...ctx.core.slackMessages.values()]
    .filter((m) => m.channel === channel && !m.isHidden && (m.threadTs === undefined || m.threadTs === m.ts))
    .filter((m) => {
      const ts = Number(m.ts);
      const aboveOldest = isInclusive ? ts >= oldest : ts > oldest;
      const belowLatest = isInclusive && !isCursorPage ? ts <= latest : ts < latest;
      return aboveOldest && belowLatest;
    })
    .sort((a, b) => Number(b.ts) - Number(a.ts));
  const page = all.slice(0, limit);
  const hasMore = all.length > limit;
  return json(200, {
    ok: true,
    messages: page.map((m) => wire(ctx.core, m)),
    has_more: hasMore,
    pin_count: 0,
    channel_actions_ts: null,
    channel_actions_count: 0,
    response_metadata: { next_cursor: hasMore ? cursorOf(page.at(-1)?.ts ?? "0.0") : "" },
  });
}

function replies(req: SimRequest, ctx: RouteContext): SimReply {
  const form = params(req);
  const who = bot(req, form, ctx);
  if ("status" in who) return who;
  const channel = channelFor(form, ctx, who);
  if (typeof channel !== "string") return channel;
  const throttled = historyBudget(req, form, ctx);
  if (throttled !== undefined) return throttled;
  const ts = form.get("ts");
  const parent = ts === null ? undefined : ctx.core.slackMessages.get(`${channel}/${ts}`);
  if (ts === null || parent === undefined || parent.isHidden) return slackError("thread_not_found");
  const thread = parent.threadTs === undefined ? [parent] : threadOf(ctx.core, channel, parent.threadTs);
  const limit = limitOf(form, ctx, 1000);
  return json(200, {
    ok: true,
    messages: thread.slice(0, limit).map((m) => wire(ctx.core, m)),
    has_more: thread.length > limit,
    response_metadata: { next_cursor: "" },
  });
}

/** What a caller supplies to open or update a Slack status incident. */
export type NewSlackIncident = Pick<SlackIncident, "id" | "title"> & Partial<Omit<SlackIncident, "id" | "title">>;

/** Opens or updates an incident on the Slack status API. */
export function setSlackIncident(core: SimCore, incident: NewSlackIncident): SlackIncident {
  const now = slackDate(core.now());
  const stored: SlackIncident = {
    date_created: core.slackIncidents.get(incident.id)?.date_created ?? now,
    date_updated: now,
    type: "incident",
    status: "active",
    url: `${core.baseUrl}/2026-01/${incident.id}`,
    services: ["Messaging"],
    notes: [],
    ...incident,
  };
  core.slackIncidents.set(incident.id, stored);
  return stored;
}

/** Slack writes dates as ISO 8601 with an offset and no fraction. */
function slackDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/** Slack routes (Web API under /api, status API under /api/v2.0.0). */
export const slackRoutes: SimRoute[] = [
  {
    method: "POST",
    pattern: /^\/api\/chat\.postMessage$/,
    endpoint: "slack.postMessage",
    family: "slack",
    handle(req, ctx) {
      const form = params(req);
      const who = bot(req, form, ctx);
      if ("status" in who) return who;
      const channel = channelFor(form, ctx, who);
      if (typeof channel !== "string") return channel;
      const text = form.get("text");
      if (text === null || text === "") return slackError("no_text");
      if (text.length > 40_000) return slackError("msg_too_long");
      const threadTs = form.get("thread_ts") ?? undefined;
      if (threadTs !== undefined && !ctx.core.slackMessages.has(`${channel}/${threadTs}`)) {
        return slackError("thread_not_found");
      }
      const ts = ctx.core.nextSlackTs();
      const parent = threadTs === undefined ? undefined : ctx.core.slackMessages.get(`${channel}/${threadTs}`);
      if (parent !== undefined) parent.threadTs ??= parent.ts;
      const message: StoredSlackMessage = {
        channel,
        ts,
        text,
        userId: who.userId,
        botId: who.botId,
        threadTs,
        isHidden: ctx.faults.some((f) => f.type === "neverVisible"),
      };
      ctx.core.slackMessages.set(`${channel}/${ts}`, message);
      return json(200, { ok: true, channel, ts, message: wire(ctx.core, message) });
    },
  },
  {
    method: ["GET", "POST"],
    pattern: /^\/api\/conversations\.history$/,
    endpoint: "slack.history",
    family: "slack",
    handle: history,
  },
  {
    method: ["GET", "POST"],
    pattern: /^\/api\/conversations\.replies$/,
    endpoint: "slack.replies",
    family: "slack",
    handle: replies,
  },
  {
    method: "POST",
    pattern: /^\/api\/chat\.delete$/,
    endpoint: "slack.delete",
    family: "slack",
    handle(req, ctx) {
      const form = params(req);
      const who = bot(req, form, ctx);
      if ("status" in who) return who;
      const channel = channelFor(form, ctx, who);
      if (typeof channel !== "string") return channel;
      const ts = form.get("ts") ?? "";
      const message = ctx.core.slackMessages.get(`${channel}/${ts}`);
      if (message === undefined) return slackError("message_not_found");
      if (message.botId !== who.botId) return slackError("cant_delete_message");
      ctx.core.slackMessages.delete(`${channel}/${ts}`);
      return json(200, { ok: true, channel, ts });
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/v2\.0\.0\/current$/,
    endpoint: "slack.status",
    family: "status",
    handle(_req, ctx) {
      const incidents = [...ctx.core.slackIncidents.values()].filter((i) => i.status === "active");
      const latest = incidents.reduce(
        (max, i) => (i.date_updated > max ? i.date_updated : max),
        "2018-09-07T18:34:15+00:00",
      );
      return json(200, {
        status: incidents.length === 0 ? "ok" : "active",
        active_incidents: incidents,
        date_created: slackDate(ctx.core.now()),
        date_updated: latest,
      });
    },
  },
];
