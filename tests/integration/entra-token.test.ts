import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { classifyFailure } from "../../src/core/classify.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { credentialSchema, type EntraCredentialSettings } from "../../probes/wire/entra/credentials-schema.js";
import { EntraTokenProvider } from "../../probes/wire/entra/token-provider.js";
import { testCerts } from "../helpers/certs.js";
import { ENTRA_FAULTS, startEntraTokenServer } from "../helpers/entra-token-server.js";
import { testIo } from "../helpers/http-io.js";
import { closeAfterEach } from "../helpers/lifecycle.js";

const keep = closeAfterEach();
const disposers: (() => void)[] = [];
afterEach(() => disposers.splice(0).forEach((d) => d()));

const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const SECRET = "SENTINEL-client-secret-value";
process.env["SUITEPROBE_TEST_ENTRA_SECRET"] = SECRET;

function io(timeoutMs = 5000) {
  const t = testIo(timeoutMs);
  disposers.push(() => t.dispose());
  return t;
}

function credential(authority: string, extra: Record<string, unknown> = {}): EntraCredentialSettings {
  return credentialSchema.parse({
    type: "entra_client_secret",
    tenant: "contoso.onmicrosoft.com",
    client_id: CLIENT_ID,
    client_secret: "${env:SUITEPROBE_TEST_ENTRA_SECRET}",
    authority,
    ...extra,
  }) as EntraCredentialSettings;
}

describe("EntraTokenProvider: client secret", () => {
  it("sends the client credentials form and times the fetch as phase auth", async () => {
    const server = keep(await startEntraTokenServer({}));
    const provider = new EntraTokenProvider("m365", credential(server.authority), { logger: io().io.logger });
    const t = io();
    const token = await provider.token(t.io);
    expect(token.token.reveal()).toBe("at-1");
    expect(JSON.stringify(token)).not.toContain("at-1");
    expect(token.isFromCache).toBe(false);
    expect(token.timings?.ttfb).toBeGreaterThanOrEqual(0);
    expect(token.requestIds["x-ms-request-id"]).toBe("srv-1");
    expect(token.requestIds["client-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    // The token request's own phases stay off the check's clock.
    expect(Object.keys(t.phases.snapshot())).toEqual(["auth"]);
    expect(server.seen[0]).toMatchObject({
      tenant: "contoso.onmicrosoft.com",
      form: {
        grant_type: "client_credentials",
        client_id: CLIENT_ID,
        client_secret: SECRET,
        scope: "https://graph.microsoft.com/.default",
      },
    });
  });

  it("fetches once for many concurrent callers, serves the cache, and fetches again near expiry", async () => {
    const server = keep(await startEntraTokenServer({ expiresIn: 3600, delayMs: 100 }));
    let now = Date.now();
    const provider = new EntraTokenProvider("m365", credential(server.authority), {
      logger: io().io.logger,
      now: () => now,
    });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.token(io().io)));
    expect(server.seen).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.token.reveal()))).toEqual(new Set(["at-1"]));
    expect(tokens.filter((t) => !t.isFromCache)).toHaveLength(1);
    expect((await provider.token(io().io)).isFromCache).toBe(true);
    now += 3600_000 - 6 * 60_000; // 6 min before expiry: still cached (refresh margin is 5 min)
    expect((await provider.token(io().io)).token.reveal()).toBe("at-1");
    now += 2 * 60_000; // 4 min before expiry: refreshed
    expect((await provider.token(io().io)).token.reveal()).toBe("at-2");
    expect(server.seen).toHaveLength(2);
  });

  it("fresh: true sends a request every time", async () => {
    const server = keep(await startEntraTokenServer({}));
    const provider = new EntraTokenProvider("m365", credential(server.authority), { logger: io().io.logger });
    await provider.token(io().io);
    const fresh = await provider.token(io().io, { fresh: true });
    expect(fresh.isFromCache).toBe(false);
    expect(fresh.token.reveal()).toBe("at-2");
    expect(server.seen).toHaveLength(2);
  });

  it.each([
    ["invalid secret", ENTRA_FAULTS.invalidSecret, "auth"],
    ["expired secret", ENTRA_FAULTS.expiredSecret, "auth"],
    ["tenant not found", ENTRA_FAULTS.tenantNotFound, "not_found"],
    ["transient directory error", ENTRA_FAULTS.transient, "unavailable"],
  ])("%s: a ProbeError in phase auth with entra facts; not cached", async (_name, fault, cls) => {
    const server = keep(await startEntraTokenServer({}));
    server.state.fault = fault;
    const t = io();
    const provider = new EntraTokenProvider("m365", credential(server.authority), { logger: t.io.logger });
    const error = await provider.token(t.io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProbeError);
    const failure = error as ProbeError;
    expect(failure.phase).toBe("auth");
    expect(failure.facts).toMatchObject({
      protocol: "entra",
      input: { status: fault.status, body: { error: fault.error, error_codes: [fault.aadsts] } },
    });
    expect(classifyFailure(failure)).toMatchObject({ class: cls, code: `AADSTS${fault.aadsts}` });
    expect(failure.message).toContain(`AADSTS${fault.aadsts}`);
    expect(failure.message).toContain("x-ms-request-id=srv-1");
    server.state.fault = undefined;
    expect((await provider.token(t.io)).token.reveal()).toBe("at-1");
    expect(server.seen).toHaveLength(2);
    for (const text of [t.logs(), failure.message, JSON.stringify(failure)]) expect(text).not.toContain("SENTINEL");
  });

  it("a connection failure is phase auth with the connection's facts", async () => {
    const provider = new EntraTokenProvider("m365", credential("http://login.suiteprobe.invalid"), {
      logger: io().io.logger,
    });
    const error = (await provider.token(io().io).catch((e: unknown) => e)) as ProbeError;
    expect(error.phase).toBe("auth");
    expect(classifyFailure(error).class).toBe("dns");
  });

  it("a caller's deadline fails that caller only; the shared fetch serves the others", async () => {
    const server = keep(await startEntraTokenServer({ delayMs: 400 }));
    const provider = new EntraTokenProvider("m365", credential(server.authority), { logger: io().io.logger });
    const short = provider.token(io(100).io).catch((e: unknown) => e);
    const long = provider.token(io(3000).io);
    expect(((await short) as ProbeError).phase).toBe("auth");
    expect(classifyFailure(await short).class).toBe("timeout");
    expect((await long).token.reveal()).toBe("at-1");
    expect(server.seen).toHaveLength(1);
  });
});

describe("EntraTokenProvider: certificate", () => {
  it("signs a PS256 client assertion the server verifies against the certificate's public key", async () => {
    const certs = await testCerts();
    const server = keep(await startEntraTokenServer({ certificate: certs.rsa.cert }));
    const settings = credentialSchema.parse({
      type: "entra_certificate",
      tenant: "00000000-0000-0000-0000-0000000000aa",
      client_id: CLIENT_ID,
      authority: server.authority,
      certificate_file: certs.rsa.certPath,
      private_key_file: certs.rsa.keyPath,
    }) as EntraCredentialSettings;
    const t = io();
    const provider = new EntraTokenProvider("app", settings, { logger: t.io.logger });
    const before = Math.floor(Date.now() / 1000);
    expect((await provider.token(t.io)).token.reveal()).toBe("at-1");
    const seen = server.seen[0];
    expect(seen?.form).toMatchObject({
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(seen?.form["client_secret"]).toBeUndefined();
    expect(seen?.assertion?.isSignatureValid).toBe(true);
    expect(seen?.assertion?.header).toMatchObject({ alg: "PS256", typ: "JWT" });
    const claims = seen?.assertion?.claims ?? {};
    expect(claims).toMatchObject({
      aud: `${server.authority}/00000000-0000-0000-0000-0000000000aa/oauth2/v2.0/token`,
      iss: CLIENT_ID,
      sub: CLIENT_ID,
    });
    expect(claims["nbf"]).toBeGreaterThanOrEqual(before);
    expect(Number(claims["exp"]) - Number(claims["nbf"])).toBe(300);
    expect(typeof claims["jti"]).toBe("string");
    await provider.token(t.io, { fresh: true });
    expect(server.seen[1]?.assertion?.claims["jti"]).not.toBe(claims["jti"]);
    expect(t.logs()).not.toContain(seen?.form["client_assertion"]?.split(".")[2]);
  });

  it("an EC key is a config failure in phase auth, before any request", async () => {
    const certs = await testCerts();
    const server = keep(await startEntraTokenServer({}));
    const settings = credentialSchema.parse({
      type: "entra_certificate",
      tenant: "contoso.onmicrosoft.com",
      client_id: CLIENT_ID,
      authority: server.authority,
      certificate_file: certs.leaf.certPath,
      private_key_file: certs.leaf.keyPath,
    }) as EntraCredentialSettings;
    const provider = new EntraTokenProvider("app", settings, { logger: io().io.logger });
    const error = (await provider.token(io().io).catch((e: unknown) => e)) as ProbeError;
    expect(error.phase).toBe("auth");
    expect(error.message).toMatch(/RSA key/);
    expect(classifyFailure(error).class).toBe("config");
    expect(server.seen).toHaveLength(0);
  });
});

describe("EntraTokenProvider: refresh token", () => {
  it("rotates the refresh token into its file atomically (0600) and never logs either token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "suiteprobe-rt-"));
    const file = join(dir, "user.token");
    writeFileSync(file, "rt-SENTINEL-seed\n", { mode: 0o600 });
    const server = keep(await startEntraTokenServer({ initialRefreshToken: "rt-SENTINEL-seed" }));
    const settings = credentialSchema.parse({
      type: "entra_refresh_token",
      tenant: "contoso.onmicrosoft.com",
      client_id: CLIENT_ID,
      authority: server.authority,
      refresh_token_file: file,
    }) as EntraCredentialSettings;
    const t = io();
    const provider = new EntraTokenProvider("user", settings, { logger: t.io.logger });
    await provider.token(t.io);
    expect(server.seen[0]?.form).toMatchObject({
      grant_type: "refresh_token",
      refresh_token: "rt-SENTINEL-seed",
      scope: "https://graph.microsoft.com/.default offline_access",
    });
    expect(readFileSync(file, "utf8").trim()).toBe("rt-1");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["user.token"]);
    // Concurrent fresh requests run one after another, each with the token the previous one got.
    await Promise.all([provider.token(t.io, { fresh: true }), provider.token(t.io, { fresh: true })]);
    expect(server.seen.map((s) => s.form["refresh_token"])).toEqual(["rt-SENTINEL-seed", "rt-1", "rt-2"]);
    expect(readFileSync(file, "utf8").trim()).toBe("rt-3");
    // A new provider (agent restart) starts from the file.
    const restarted = new EntraTokenProvider("user", settings, { logger: t.io.logger });
    expect((await restarted.token(t.io)).token.reveal()).toBe("at-4");
    const logs = t.logs();
    expect(logs).not.toMatch(/SENTINEL|rt-\d|at-\d/);
    expect(logs).toContain("entra token issued");
  });

  it("a missing refresh_token_file is a config failure naming the file", async () => {
    const server = keep(await startEntraTokenServer({}));
    const settings = credentialSchema.parse({
      type: "entra_refresh_token",
      tenant: "contoso.onmicrosoft.com",
      client_id: CLIENT_ID,
      authority: server.authority,
      refresh_token_file: "/nonexistent/suiteprobe.token",
    }) as EntraCredentialSettings;
    const provider = new EntraTokenProvider("user", settings, { logger: io().io.logger });
    const error = (await provider.token(io().io).catch((e: unknown) => e)) as ProbeError;
    expect(error.message).toContain("/nonexistent/suiteprobe.token cannot be read (ENOENT)");
    expect(classifyFailure(error).class).toBe("config");
  });
});
