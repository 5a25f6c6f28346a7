/**
 * Kind `slack_chat`: post a message carrying a unique probe id into a channel with a bot token (`chat.postMessage`),
 * read it back with `conversations.history` until visible or `max_delivery` passes, then delete it (`chat.delete`).
 * The round-trip driver does the bookkeeping (late, uncertain, leftovers); the read-back stays within Slack's 2025
 * limit for non-Marketplace apps (1 history request per minute, 15 items) by default.
 */
import { z } from "zod";
import { duration } from "../src/core/duration.js";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { secretRef } from "../src/core/secret.js";
import { CHAT_FACTS, CHAT_PHASE_NAMES, CHAT_PHASES, chatProbeText, isLostConnection } from "./wire/chat/chat.js";
import {
  slackCall,
  SlackWatcher,
  type SlackChatState,
  type SlackEndpoint,
  type SlackItem,
} from "./wire/chat/slack-watcher.js";
import { HTTP_FACTS } from "./wire/http/api.js";
import { createRoundTripState, runRoundTrip, type SendOutcome } from "./wire/roundtrip/driver.js";
import { tlsFields } from "./wire/transport/tls.js";

/** The check's timeout must be at least `max_delivery` plus this (post, cleanup of earlier runs, delete). */
export const SLACK_CHAT_TIMEOUT_MARGIN_MS = 10_000;

const httpUrl = z
  .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
  .transform((url) => url.replace(/\/+$/, ""));

/** The `slack_chat` block. */
export const slackChatSettingsSchema = z
  .strictObject({
    token: secretRef.describe(
      "Bot token (xoxb-…), as ${env:NAME} or ${file:/path}; scopes chat:write and channels:history (groups:history for a private channel).",
    ),
    channel: z
      .string()
      .regex(/^[CGD][A-Z0-9]{2,}$/, { message: "must be a channel ID such as C0123456 (not a #name)" })
      .describe("Channel ID (C…, or G… for a private channel) the bot is a member of; a dedicated probe channel."),
    max_delivery: duration
      .prefault("30s")
      .describe(
        `Longest accepted time from chat.postMessage's answer to the message being read back. The check's timeout must be at least this plus ${SLACK_CHAT_TIMEOUT_MARGIN_MS / 1000}s.`,
      ),
    slack_url: httpUrl
      .default("https://slack.com/api")
      .describe("Slack Web API base URL (a proxy or a local simulator otherwise)."),
    read_interval: duration
      .prefault("60s")
      .describe(
        "Least time between two conversations.history reads of this check, also across runs. The default fits " +
          "Slack's 2025 limit for commercially distributed non-Marketplace apps (1 request per minute): one read " +
          "per run. Internal customer-built and Marketplace apps are exempt and may set e.g. 2s to poll.",
      ),
    read_limit: z
      .number()
      .int()
      .min(1)
      .max(15)
      .default(15)
      .describe(
        "`limit` of each conversations.history read (at most 15 under the 2025 limit); only messages since the post are read.",
      ),
    tls: z
      .strictObject(tlsFields)
      .optional()
      .describe("TLS options for the Slack API (CA file, servername, client certificate)."),
  })
  .superRefine((s, issue) => {
    if (s.read_interval < 1000) {
      issue.addIssue({ code: "custom", path: ["read_interval"], message: "must be at least 1s" });
    }
  });

/** Parsed `slack_chat` settings. */
export type SlackChatSettings = z.output<typeof slackChatSettingsSchema>;

type Context = ProbeContext<SlackChatSettings, SlackChatState>;

async function run(ctx: Context): Promise<void> {
  const { settings } = ctx;
  const endpoint: SlackEndpoint = {
    url: settings.slack_url,
    token: settings.token,
    channel: settings.channel,
    tls: settings.tls,
  };
  const watcher = new SlackWatcher(ctx, {
    endpoint,
    readIntervalMs: settings.read_interval,
    readLimit: settings.read_limit,
    maxDeliveryMs: settings.max_delivery,
  });
  await runRoundTrip<SlackItem>({
    ...ctx,
    declared: CHAT_FACTS,
    maxDeliveryMs: settings.max_delivery,
    pollIntervalMs: settings.read_interval,
    phaseNames: CHAT_PHASE_NAMES,
    send: (id) => post(ctx, endpoint, watcher, id),
    watcher,
  });
}

/** chat.postMessage, phase `post`; the answer's ts is where the read-back starts and what chat.delete takes. */
async function post(
  ctx: Context,
  endpoint: SlackEndpoint,
  watcher: SlackWatcher,
  id: string,
): Promise<SendOutcome<SlackItem>> {
  // Slack ts are seconds with 6 decimals; a second of slack covers clock skew if the answer is lost.
  watcher.oldest = ((Date.now() - 1000) / 1000).toFixed(6);
  try {
    const body = await slackCall(ctx, endpoint, {
      method: "chat.postMessage",
      phase: "post",
      timed: true,
      json: { channel: endpoint.channel, text: chatProbeText(id), unfurl_links: false, unfurl_media: false },
    });
    const ts = body["ts"];
    if (typeof ts !== "string") return { acceptedAtMs: Date.now() };
    watcher.oldest = ts;
    return { acceptedAtMs: Date.now(), item: { id, ts } };
  } catch (error) {
    // Lost before the answer: the message may have been posted, so keep watching for it.
    if (isLostConnection(error, ctx.signal)) return { acceptedAtMs: Date.now(), uncertain: error };
    throw error;
  }
}

/** The `slack_chat` probe kind. */
export const slackChatKind = defineKind<SlackChatSettings, SlackChatState>({
  id: "slack_chat",
  title: "Post a marked message to a Slack channel, time until conversations.history shows it, then delete it",
  settingsSchema: slackChatSettingsSchema,
  isSettingsOptional: false,
  phases: CHAT_PHASES,
  facts: [...Object.values(CHAT_FACTS), ...HTTP_FACTS],
  createState: () => ({ ...createRoundTripState(), lastReadAtMs: 0 }),
  minTimeoutMs: (s) => ({
    ms: s.max_delivery + SLACK_CHAT_TIMEOUT_MARGIN_MS,
    why: `max_delivery + ${SLACK_CHAT_TIMEOUT_MARGIN_MS / 1000}s`,
  }),
  target: { type: "none", label: (s) => `${new URL(s.slack_url).host}/${s.channel}` },
  // Slack rate-limits per token (history) and per channel (posting); the token reference is from config, so bounded.
  throttleScope: (s) => `${s.token.reference}@${new URL(s.slack_url).host}`,
  run,
});
