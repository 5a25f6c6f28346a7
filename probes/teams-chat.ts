/**
 * Kind `teams_chat`: post a message carrying a unique probe id into a Teams chat as a dedicated probe user (Graph
 * allows posting and soft-deleting chat messages only with a delegated token), list the chat until it is visible or
 * `max_delivery` passes, then soft-delete it. Optionally also create and delete a chat or an online meeting with an
 * app-only credential — the step that failed on 22 January 2026 while posting worked.
 */
import { z } from "zod";
import { duration } from "../src/core/duration.js";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { CHAT_FACTS, CHAT_PHASE_NAMES, chatProbeText, isLostConnection } from "./wire/chat/chat.js";
import { CREATE_TYPES, createAndDelete, type CreateState } from "./wire/chat/teams-create.js";
import { graphCall, TeamsWatcher, type GraphEndpoint, type TeamsItem } from "./wire/chat/teams-watcher.js";
import { HTTP_CREDENTIALS } from "./wire/entra/credential.js";
import { apiRequest, HTTP_FACTS, jsonObject } from "./wire/http/api.js";
import { createRoundTripState, runRoundTrip, type RoundTripState, type SendOutcome } from "./wire/roundtrip/driver.js";
import { tlsFields } from "./wire/transport/tls.js";

/** The check's timeout must be at least `max_delivery` plus this (sign-in, leftovers, post, delete, creation). */
export const TEAMS_CHAT_TIMEOUT_MARGIN_MS = 15_000;

/** Microsoft's terms forbid using Teams as a log: at most one probe message every 5 minutes per check. */
export const TEAMS_CHAT_MIN_INTERVAL_MS = 5 * 60_000;

/** Phases of `teams_chat`: `list` finds leftovers of earlier runs; `create`/`create_delete` only with `create`. */
export const TEAMS_CHAT_PHASES = ["auth", "list", "post", "visible", "delete", "create", "create_delete"] as const;

const httpUrl = z
  .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
  .transform((url) => url.replace(/\/+$/, ""));
const credentialName = z.string().min(1).max(63);
const userRef = z
  .string()
  .regex(/^[^/?#\s'()]+$/, { message: "must be a user id (GUID) or user principal name" })
  .describe("A user's object id or user principal name.");

/** The `teams_chat` block. */
export const teamsChatSettingsSchema = z
  .strictObject({
    credential: credentialName.describe(
      "A delegated credential (type entra_refresh_token) of the dedicated probe user, with ChatMessage.Send and Chat.ReadWrite.",
    ),
    chat_id: z
      .string()
      .regex(/^19:[^/?#\s]+$/, { message: "must be a chat id such as 19:…@thread.v2" })
      .describe("The probe chat's id (19:…@thread.v2): a chat of the probe user used for nothing else."),
    max_delivery: duration
      .prefault("30s")
      .describe(
        `Longest accepted time from the post's answer to the message being listed. The check's timeout must be at least this plus ${TEAMS_CHAT_TIMEOUT_MARGIN_MS / 1000}s.`,
      ),
    poll_interval: duration
      .prefault("2s")
      .describe("Time between listings of the chat; must be shorter than max_delivery."),
    graph_url: httpUrl
      .default("https://graph.microsoft.com")
      .describe("Microsoft Graph base URL (national cloud, proxy or simulator otherwise), without /v1.0."),
    create: z
      .enum(CREATE_TYPES)
      .optional()
      .describe(
        "Also create and delete a group chat (POST /chats) or an online meeting (POST /users/{id}/onlineMeetings) each run.",
      ),
    create_credential: credentialName
      .optional()
      .describe(
        "App-only credential for `create` (entra_client_secret or entra_certificate): Chat.Create and " +
          "Chat.ManageDeletion.All for chat; OnlineMeetings.ReadWrite.All plus an application access policy for meeting.",
      ),
    create_users: z
      .array(userRef)
      .min(1)
      .max(10)
      .optional()
      .describe(
        "create: chat — the members (at least 2, e.g. the probe user and a peer); meeting — the organizer (first).",
      ),
    tls: z
      .strictObject(tlsFields)
      .optional()
      .describe("TLS options for Graph (CA file, servername, client certificate)."),
  })
  .superRefine((s, issue) => {
    if (s.poll_interval >= s.max_delivery) {
      issue.addIssue({ code: "custom", path: ["poll_interval"], message: "must be shorter than max_delivery" });
    }
    if (s.create === undefined) {
      for (const field of ["create_credential", "create_users"] as const) {
        if (s[field] !== undefined) issue.addIssue({ code: "custom", path: [field], message: "needs create" });
      }
      return;
    }
    if (s.create_credential === undefined) {
      issue.addIssue({ code: "custom", path: ["create_credential"], message: `required with create: ${s.create}` });
    }
    const least = s.create === "chat" ? 2 : 1;
    if ((s.create_users?.length ?? 0) < least) {
      issue.addIssue({
        code: "custom",
        path: ["create_users"],
        message: s.create === "chat" ? "create: chat needs at least 2 users" : "create: meeting needs the organizer",
      });
    }
  });

/** Parsed `teams_chat` settings. */
export type TeamsChatSettings = z.output<typeof teamsChatSettingsSchema>;

/** Round-trip state plus created chats/meetings still to delete. */
export type TeamsChatState = RoundTripState & CreateState;

type Context = ProbeContext<TeamsChatSettings, TeamsChatState>;

async function run(ctx: Context): Promise<void> {
  const { settings } = ctx;
  const endpoint: GraphEndpoint = {
    url: settings.graph_url,
    credential: ctx.credential(settings.credential),
    tls: settings.tls,
  };
  await runRoundTrip<TeamsItem>({
    ...ctx,
    declared: CHAT_FACTS,
    maxDeliveryMs: settings.max_delivery,
    pollIntervalMs: settings.poll_interval,
    phaseNames: CHAT_PHASE_NAMES,
    send: (id) => post(ctx, endpoint, id),
    watcher: new TeamsWatcher(ctx, endpoint, settings.chat_id),
  });
  if (settings.create !== undefined && settings.create_credential !== undefined) {
    await createAndDelete(ctx, {
      type: settings.create,
      endpoint: { ...endpoint, credential: ctx.credential(settings.create_credential) },
      users: settings.create_users ?? [],
    });
  }
}

/** POST /chats/{id}/messages, phase `post`; the answer names the message, so it is deleted even if never listed. */
async function post(ctx: Context, endpoint: GraphEndpoint, id: string): Promise<SendOutcome<TeamsItem>> {
  try {
    const response = await apiRequest(
      ctx,
      graphCall(endpoint, `/chats/${ctx.settings.chat_id}/messages`, {
        method: "POST",
        json: { body: { contentType: "text", content: chatProbeText(id) } },
        step: "post",
      }),
    );
    const body = jsonObject(response, "posted message", "post");
    const messageId = body["id"];
    const userId = (body["from"] as { user?: { id?: unknown } } | null | undefined)?.user?.id;
    if (typeof messageId !== "string" || typeof userId !== "string") return { acceptedAtMs: Date.now() };
    return { acceptedAtMs: Date.now(), item: { id, messageId, userId } };
  } catch (error) {
    // Lost before the answer: the message may have been posted, so keep watching for it.
    if (isLostConnection(error, ctx.signal)) return { acceptedAtMs: Date.now(), uncertain: error };
    throw error;
  }
}

const DELEGATED = ["entra_refresh_token"] as const;
const APP_ONLY = ["entra_client_secret", "entra_certificate"] as const;

/** The `teams_chat` probe kind. */
export const teamsChatKind = defineKind<TeamsChatSettings, TeamsChatState>({
  id: "teams_chat",
  title: "Post a marked message to a Teams chat as a probe user, time until it is listed, then delete it",
  settingsSchema: teamsChatSettingsSchema,
  isSettingsOptional: false,
  phases: TEAMS_CHAT_PHASES,
  facts: [...Object.values(CHAT_FACTS), ...HTTP_FACTS],
  createState: () => ({ ...createRoundTripState(), undeletedCreated: [] }),
  credentials: HTTP_CREDENTIALS,
  credentialOf: (s) => [
    {
      field: "credential",
      name: s.credential,
      types: DELEGATED,
      why: "Graph allows posting and soft-deleting chat messages only with a delegated token",
    },
    ...(s.create_credential === undefined
      ? []
      : [
          {
            field: "create_credential",
            name: s.create_credential,
            types: APP_ONLY,
            why: "chats and meetings are created and deleted with application permissions",
          },
        ]),
  ],
  minIntervalMs: () => ({ ms: TEAMS_CHAT_MIN_INTERVAL_MS, why: "Microsoft's terms forbid using Teams as a log" }),
  minTimeoutMs: (s) => ({
    ms: s.max_delivery + TEAMS_CHAT_TIMEOUT_MARGIN_MS,
    why: `max_delivery + ${TEAMS_CHAT_TIMEOUT_MARGIN_MS / 1000}s`,
  }),
  target: { type: "none", label: (s) => `${new URL(s.graph_url).host}/chats` },
  // Graph throttles per app and tenant; one credential against one Graph host is the scope (names from config).
  throttleScope: (s) => `${s.credential}@${new URL(s.graph_url).host}`,
  run,
});
