/**
 * The optional creation step of `teams_chat`: create a group chat (`POST /chats`) or an online meeting
 * (`POST /users/{id}/onlineMeetings`) and delete it again — creation is what failed on 22 January 2026 while posting
 * worked. What could not be deleted is remembered and deleted first by the next run.
 */
import type { ProbeContext } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { apiRequest, jsonObject } from "../http/api.js";
import { newProbeId } from "../roundtrip/probe-id.js";
import { configFailure } from "./chat.js";
import { graphCall, type GraphEndpoint } from "./teams-watcher.js";

/** What can be created. */
export const CREATE_TYPES = ["chat", "meeting"] as const;
/** One of them. */
export type CreateType = (typeof CREATE_TYPES)[number];

/** Created items whose delete failed: Graph paths (under /v1.0) to DELETE, oldest first. */
export interface CreateState {
  readonly undeletedCreated: string[];
}

/** At most this many remembered paths (the oldest are forgotten). */
const MAX_REMEMBERED = 100;

/** What the step needs. */
export interface CreateInput {
  type: CreateType;
  endpoint: GraphEndpoint;
  /** chat: member user ids (or UPNs); meeting: the organizer is the first. */
  users: readonly string[];
}

/** Deletes what earlier runs left (phase `create_delete`), then creates (phase `create`) and deletes one item. */
export async function createAndDelete(ctx: ProbeContext<unknown, CreateState>, input: CreateInput): Promise<void> {
  const { endpoint } = input;
  if (!endpoint.credential.isAppOnly) {
    throw configFailure(
      `create: ${input.type} needs an app-only credential (create_credential): application permission ` +
        (input.type === "chat" ? "Chat.Create" : "OnlineMeetings.ReadWrite.All with an application access policy"),
      "create",
    );
  }
  // Its own token request is timed as `auth`, not as part of creating.
  await endpoint.credential.authorization({ signal: ctx.signal, phases: ctx.phases, logger: ctx.logger });
  const remembered = ctx.state.undeletedCreated;
  while (remembered.length > 0) {
    const path = remembered[0] ?? "";
    await deleteCreated(ctx, endpoint, path);
    remembered.shift();
  }
  const id = newProbeId(ctx.check, Date.now());
  const path = input.type === "chat" ? await createChat(ctx, input, id) : await createMeeting(ctx, input, id);
  try {
    await deleteCreated(ctx, endpoint, path);
  } catch (error) {
    remembered.push(path);
    if (remembered.length > MAX_REMEMBERED) remembered.shift();
    throw error;
  }
}

async function createChat(ctx: ProbeContext<unknown, CreateState>, input: CreateInput, id: string): Promise<string> {
  const members = input.users.map((user) => ({
    "@odata.type": "#microsoft.graph.aadUserConversationMember",
    roles: ["owner"],
    "user@odata.bind": `${input.endpoint.url}/v1.0/users('${user}')`,
  }));
  const response = await apiRequest(
    ctx,
    graphCall(input.endpoint, "/chats", {
      method: "POST",
      json: { chatType: "group", topic: `suiteprobe ${id}`, members },
      step: "create",
    }),
  );
  return `/chats/${createdId(jsonObject(response, "created chat", "create"))}`;
}

async function createMeeting(ctx: ProbeContext<unknown, CreateState>, input: CreateInput, id: string): Promise<string> {
  const organizer = input.users[0] ?? "";
  const now = Date.now();
  const response = await apiRequest(
    ctx,
    graphCall(input.endpoint, `/users/${organizer}/onlineMeetings`, {
      method: "POST",
      json: {
        subject: `suiteprobe ${id}`,
        startDateTime: new Date(now).toISOString(),
        endDateTime: new Date(now + 30 * 60_000).toISOString(),
      },
      step: "create",
    }),
  );
  return `/users/${organizer}/onlineMeetings/${createdId(jsonObject(response, "created meeting", "create"))}`;
}

function createdId(body: Record<string, unknown>): string {
  const id = body["id"];
  // Graph ids carry no '/', '?' or '#'; anything else would make the delete path address something else.
  if (typeof id === "string" && /^[^/?#\s]+$/.test(id)) return id;
  throw new ProbeError("the created item has no usable id", {
    phase: "create",
    facts: { protocol: "probe", input: { class: "protocol" } },
  });
}

async function deleteCreated(ctx: ProbeContext<unknown, CreateState>, endpoint: GraphEndpoint, path: string) {
  try {
    await apiRequest(ctx, graphCall(endpoint, path, { method: "DELETE", step: "create_delete" }));
  } catch (error) {
    // Already gone: done.
    const status = (error instanceof ProbeError ? (error.facts?.input as { status?: unknown }) : undefined)?.status;
    if (status !== 404) throw error;
  }
}
