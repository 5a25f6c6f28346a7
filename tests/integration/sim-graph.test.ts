import { describe, expect, it } from "vitest";
import { appToken, delegatedToken, graph, simulators } from "../helpers/sim.js";

const start = simulators();
const DRIVE = "b!sim-drive-0001";
const CHAT = "19:suiteprobe-probe@thread.v2";
const chatPath = `/v1.0/chats/${encodeURIComponent(CHAT)}/messages`;

interface SearchBody {
  value: {
    hitsContainers: {
      total: number;
      moreResultsAvailable: boolean;
      hits: { hitId: string; rank: number; resource: { name: string; "@odata.type": string } }[];
    }[];
  }[];
}

describe("sim: Graph search and drive", () => {
  it("finds the seeded canary document with rank, resource and total; app-only needs region", async () => {
    const sim = await start();
    const token = await appToken(sim);
    const request = { entityTypes: ["driveItem"], query: { queryString: "suiteprobe-canary" }, region: "NAM" };
    const res = await graph(sim, token, "POST", "/v1.0/search/query", { requests: [request] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SearchBody;
    const container = body.value[0]!.hitsContainers[0]!;
    expect(container.total).toBe(1);
    expect(container.moreResultsAvailable).toBe(false);
    expect(container.hits[0]).toMatchObject({
      rank: 1,
      resource: { name: "suiteprobe-canary.docx", "@odata.type": "#microsoft.graph.driveItem" },
    });
    const { region: _region, ...noRegion } = request;
    const missing = await graph(sim, token, "POST", "/v1.0/search/query", { requests: [noRegion] });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: { code: "BadRequest", message: "Region is required when request with application permission." },
    });
    expect(missing.headers.get("request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.headers.get("x-ms-ags-diagnostic")).toContain("ServerInfo");
  });

  it("uploads (201), searches with index lag, pages drive search via @odata.nextLink, deletes (204)", async () => {
    let now = Date.now();
    const sim = await start({ now: () => now });
    const token = await appToken(sim);
    sim.setFault("graph.drive.search", { type: "indexLag", seconds: 60 });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const put = await fetch(`${sim.url}/v1.0/drives/${DRIVE}/items/root:/probe/lag-${n}.txt:/content`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
        body: `probe ${n}`,
      });
      expect(put.status).toBe(201);
      const item = (await put.json()) as { id: string; name: string; size: number };
      expect(item).toMatchObject({ name: `lag-${n}.txt`, size: 7 });
      ids.push(item.id);
    }
    const search = (url: string) => graph(sim, token, "GET", url.replace(sim.url, ""));
    const first = await search(`/v1.0/drives/${DRIVE}/root/search(q='lag-')?$top=2`);
    expect(((await first.json()) as { value: unknown[] }).value).toHaveLength(0);
    now += 61_000;
    const page1 = (await (await search(`/v1.0/drives/${DRIVE}/root/search(q='lag-')?$top=2`)).json()) as {
      value: { name: string }[];
      "@odata.nextLink"?: string;
    };
    expect(page1.value).toHaveLength(2);
    expect(page1["@odata.nextLink"]).toMatch(new RegExp(`^${sim.url}/`));
    const page2 = (await (await search(page1["@odata.nextLink"]!)).json()) as {
      value: { name: string }[];
      "@odata.nextLink"?: string;
    };
    expect(page2.value).toHaveLength(1);
    expect(page2["@odata.nextLink"]).toBeUndefined();
    expect(new Set([...page1.value, ...page2.value].map((v) => v.name))).toEqual(
      new Set(["lag-1.txt", "lag-2.txt", "lag-3.txt"]),
    );
    expect(sim.leftovers().files).toHaveLength(3);
    for (const id of ids)
      expect((await graph(sim, token, "DELETE", `/v1.0/drives/${DRIVE}/items/${id}`)).status).toBe(204);
    expect(sim.leftovers().files).toHaveLength(0);
    const again = await graph(sim, token, "DELETE", `/v1.0/drives/${DRIVE}/items/${ids[0]}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: "itemNotFound" } });
  });

  it("noHits answers a valid empty result", async () => {
    const sim = await start();
    const token = await appToken(sim);
    sim.setFault("graph.search", { type: "noHits" });
    const res = await graph(sim, token, "POST", "/v1.0/search/query", {
      requests: [{ entityTypes: ["driveItem"], query: { queryString: "suiteprobe-canary" }, region: "NAM" }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SearchBody;
    expect(body.value[0]!.hitsContainers[0]).toMatchObject({ total: 0, hits: [] });
  });
});

describe("sim: Teams chat messages", () => {
  it("posts (201), lists newest first with @odata.nextLink paging, soft-deletes (204) and shows deletedDateTime", async () => {
    const sim = await start();
    const token = await delegatedToken(sim);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await graph(sim, token, "POST", chatPath, { body: { content: `probe ${n}` } });
      expect(res.status).toBe(201);
      const message = (await res.json()) as { id: string; createdDateTime: string; body: { content: string } };
      expect(message.body.content).toBe(`probe ${n}`);
      expect(Date.parse(message.createdDateTime)).not.toBeNaN();
      ids.push(message.id);
    }
    const page1 = (await (await graph(sim, token, "GET", `${chatPath}?$top=2`)).json()) as {
      value: { id: string }[];
      "@odata.nextLink": string;
    };
    expect(page1.value.map((m) => m.id)).toEqual([ids[2], ids[1]]);
    const page2 = (await (await graph(sim, token, "GET", page1["@odata.nextLink"].replace(sim.url, ""))).json()) as {
      value: { id: string }[];
      "@odata.nextLink"?: string;
    };
    expect(page2.value.map((m) => m.id)).toEqual([ids[0]]);
    expect(page2["@odata.nextLink"]).toBeUndefined();

    for (const id of ids) {
      const del = await graph(
        sim,
        token,
        "POST",
        `/v1.0/users/probe-user-id/chats/${encodeURIComponent(CHAT)}/messages/${id}/softDelete`,
      );
      expect(del.status).toBe(204);
    }
    const after = (await (await graph(sim, token, "GET", `${chatPath}?$top=5`)).json()) as {
      value: { deletedDateTime: string | null; body: { content: string } }[];
    };
    expect(after.value.every((m) => m.deletedDateTime !== null && m.body.content === "")).toBe(true);
    expect(sim.leftovers().chatMessages).toEqual([]);
  });

  it("refuses app-only posting (401 Unauthorized, import only) and softDelete (403)", async () => {
    const sim = await start();
    const token = await appToken(sim);
    const post = await graph(sim, token, "POST", chatPath, { body: { content: "x" } });
    expect(post.status).toBe(401);
    expect(await post.json()).toMatchObject({ error: { code: "Unauthorized" } });
    const del = await graph(
      sim,
      token,
      "POST",
      `/v1.0/users/u/chats/${encodeURIComponent(CHAT)}/messages/1/softDelete`,
    );
    expect(del.status).toBe(403);
    expect(sim.leftovers().chatMessages).toEqual([]);
  });

  it("neverVisible: the post succeeds, the message never lists, and it is still a leftover until deleted", async () => {
    const sim = await start();
    const token = await delegatedToken(sim);
    sim.setFault("graph.chat.post", { type: "neverVisible" });
    const posted = (await (await graph(sim, token, "POST", chatPath, { body: { content: "ghost" } })).json()) as {
      id: string;
    };
    const list = (await (await graph(sim, token, "GET", chatPath)).json()) as { value: unknown[] };
    expect(list.value).toEqual([]);
    expect(sim.leftovers().chatMessages.map((m) => m["id"])).toEqual([posted.id]);
    const del = await graph(
      sim,
      token,
      "POST",
      `/v1.0/users/probe-user-id/chats/${encodeURIComponent(CHAT)}/messages/${posted.id}/softDelete`,
    );
    expect(del.status).toBe(204);
    expect(sim.leftovers().chatMessages).toEqual([]);
  });

  it("creates and deletes a chat and an online meeting; creation can fail while posting works", async () => {
    const sim = await start();
    const app = await appToken(sim);
    const user = await delegatedToken(sim);
    const members = ["probe-user-id", "peer-user-id"].map((id) => ({
      "@odata.type": "#microsoft.graph.aadUserConversationMember",
      roles: ["owner"],
      "user@odata.bind": `https://graph.microsoft.com/v1.0/users('${id}')`,
    }));
    const chat = await graph(sim, app, "POST", "/v1.0/chats", { chatType: "group", topic: "probe", members });
    expect(chat.status).toBe(201);
    const { id: chatId } = (await chat.json()) as { id: string };
    expect(chatId).toMatch(/^19:.+@thread\.v2$/);
    expect(sim.leftovers().chats).toEqual([chatId]);
    expect((await graph(sim, app, "DELETE", `/v1.0/chats/${encodeURIComponent(chatId)}`)).status).toBe(204);

    const meeting = await graph(sim, app, "POST", "/v1.0/users/probe-user-id/onlineMeetings", {
      subject: "probe",
      startDateTime: "2026-01-22T14:00:00Z",
      endDateTime: "2026-01-22T14:30:00Z",
    });
    expect(meeting.status).toBe(201);
    const { id: meetingId, joinWebUrl } = (await meeting.json()) as { id: string; joinWebUrl: string };
    expect(joinWebUrl).toContain("meetup-join");
    expect((await graph(sim, app, "DELETE", `/v1.0/users/probe-user-id/onlineMeetings/${meetingId}`)).status).toBe(204);

    sim.setFault("graph.chat.create", { type: "status", status: 503, code: "serviceNotAvailable", retryAfter: 30 });
    const failed = await graph(sim, app, "POST", "/v1.0/chats", { chatType: "group", members });
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("30");
    expect(await failed.json()).toMatchObject({ error: { code: "serviceNotAvailable" } });
    expect((await graph(sim, user, "POST", chatPath, { body: { content: "still works" } })).status).toBe(201);
    expect(sim.leftovers()).toMatchObject({ chats: [], meetings: [] });
  });
});

describe("sim: service health", () => {
  it("lists overviews with documented statuses and issues as they are opened and resolved", async () => {
    const sim = await start();
    const token = await appToken(sim);
    const overviews = (await (
      await graph(sim, token, "GET", "/v1.0/admin/serviceAnnouncement/healthOverviews")
    ).json()) as {
      value: { service: string; status: string; id: string }[];
    };
    expect(overviews.value.find((s) => s.id === "Exchange")).toEqual({
      service: "Exchange Online",
      status: "serviceOperational",
      id: "Exchange",
    });
    sim.setServiceStatus("Exchange Online", "serviceDegradation");
    sim.openIssue({
      id: "EX1234567",
      service: "Exchange Online",
      title: "Users can't send mail",
      classification: "incident",
    });
    const issues = (await (await graph(sim, token, "GET", "/v1.0/admin/serviceAnnouncement/issues")).json()) as {
      value: Record<string, unknown>[];
    };
    expect(issues.value[0]).toMatchObject({
      id: "EX1234567",
      classification: "incident",
      isResolved: false,
      status: "investigating",
    });
    expect(issues.value[0]!["posts"]).toHaveLength(1);
    sim.resolveIssue("EX1234567");
    const resolved = (await (await graph(sim, token, "GET", "/v1.0/admin/serviceAnnouncement/issues")).json()) as {
      value: Record<string, unknown>[];
    };
    expect(resolved.value[0]).toMatchObject({ isResolved: true, status: "serviceRestored" });
    const after = (await (
      await graph(sim, token, "GET", "/v1.0/admin/serviceAnnouncement/healthOverviews")
    ).json()) as {
      value: { id: string; status: string }[];
    };
    expect(after.value.find((s) => s.id === "Exchange")?.status).toBe("serviceDegradation");
  });

  it("denies a token without ServiceHealth.Read.All (403 accessDenied)", async () => {
    const sim = await start();
    const token = await delegatedToken(sim);
    const res = await graph(sim, token, "GET", "/v1.0/admin/serviceAnnouncement/healthOverviews");
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "accessDenied" } });
  });
});
