import { describe, expect, it } from "vitest";
import { formatIssues } from "../../src/config/format-issues.js";
import {
  credentialSchema,
  credentialsSchema,
  tokenScope,
  tokenUrl,
  type EntraCredentialSettings,
} from "../../probes/wire/entra/credentials-schema.js";
import { staticAuthorization } from "../../probes/wire/entra/static-auth.js";

const base = {
  type: "entra_client_secret",
  tenant: "contoso.onmicrosoft.com",
  client_id: "00000000-0000-0000-0000-000000000000",
  client_secret: "${env:M365_SECRET}",
};

function messages(input: unknown): string[] {
  const result = credentialsSchema.safeParse(input);
  return result.success ? [] : formatIssues(result.error.issues);
}

describe("credentials schema", () => {
  it("defaults to the public cloud; a national cloud changes authority and scope", () => {
    const pub = credentialSchema.parse(base) as EntraCredentialSettings;
    expect(tokenUrl(pub).href).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    expect(tokenScope(pub)).toBe("https://graph.microsoft.com/.default");
    const gov = credentialSchema.parse({ ...base, cloud: "usgov" }) as EntraCredentialSettings;
    expect(tokenUrl(gov).origin).toBe("https://login.microsoftonline.us");
    expect(tokenScope(gov)).toBe("https://graph.microsoft.us/.default");
    const cn = credentialSchema.parse({ ...base, cloud: "china" }) as EntraCredentialSettings;
    expect(tokenUrl(cn).origin).toBe("https://login.chinacloudapi.cn");
    expect(tokenScope(cn)).toBe("https://microsoftgraph.chinacloudapi.cn/.default");
    const sim = credentialSchema.parse({ ...base, authority: "http://127.0.0.1:8080/" }) as EntraCredentialSettings;
    expect(tokenUrl(sim).href).toBe("http://127.0.0.1:8080/contoso.onmicrosoft.com/oauth2/v2.0/token");
  });

  it("asks for offline_access with the refresh-token grant", () => {
    const rt = credentialSchema.parse({
      ...base,
      type: "entra_refresh_token",
      client_secret: undefined,
      refresh_token_file: "/var/lib/suiteprobe/u.token",
    }) as EntraCredentialSettings;
    expect(tokenScope(rt)).toBe("https://graph.microsoft.com/.default offline_access");
  });

  it("reports every problem with its path: literal secrets, unknown keys, bad ids, bad names", () => {
    expect(
      messages({
        m365: { ...base, client_secret: "hunter2", clinet_id: "x" },
        "bad name!": { type: "bearer", token: "${env:T}" },
        app: { ...base, client_id: "not-a-guid", tenant: "contoso" },
      }),
    ).toEqual([
      "m365.client_secret: must be a reference like ${env:NAME} or ${file:/path}, not a literal secret",
      "m365.clinet_id: unknown field",
      "bad name!: must be 1–63 letters, digits, '_', '.' or '-', starting with a letter or digit",
      "app.tenant: must be a tenant id (GUID) or a verified domain like contoso.onmicrosoft.com",
      "app.client_id: must be the application (client) ID, a GUID",
    ]);
  });

  it("builds bearer and basic Authorization headers from their secrets", () => {
    process.env["SUITEPROBE_TEST_STATIC"] = "s3cret";
    const bearer = credentialSchema.parse({ type: "bearer", token: "${env:SUITEPROBE_TEST_STATIC}" });
    const basic = credentialSchema.parse({ type: "basic", username: "u", password: "${env:SUITEPROBE_TEST_STATIC}" });
    if (bearer.type !== "bearer" || basic.type !== "basic") throw new Error("wrong type");
    expect(staticAuthorization(bearer)).toBe("Bearer s3cret");
    expect(staticAuthorization(basic)).toBe(`Basic ${Buffer.from("u:s3cret").toString("base64")}`);
    expect(JSON.stringify(basic)).not.toContain("s3cret");
  });
});
