import { describe, expect, it } from "vitest";
import { parseWebConfig } from "../../src/server/web-config.js";

const HASH = "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze";

describe("web config (exporter-toolkit format)", () => {
  it("accepts basic auth users with bcrypt hashes and headers", () => {
    const result = parseWebConfig(
      `basic_auth_users:\n  alice: "${HASH}"\nhttp_server_config:\n  http2: true\n  headers: { X-Frame-Options: deny }\n`,
      "web.yml",
    );
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.config.users.get("alice")).toBe(HASH);
    expect(result.config.headers).toEqual({ "X-Frame-Options": "deny" });
    expect(result.config.tls).toBeUndefined();
  });

  it("reports every problem at once, one line each, without echoing a password", () => {
    const result = parseWebConfig(
      `tls_server_config:
  cert_file: /nonexistent/suiteprobe/server.crt
  key_file: /nonexistent/suiteprobe/server.key
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS14
  cipher_suites: [TLS_AES_128_GCM_SHA256]
basic_auth_users:
  bob: plain-text-password
http_server_config:
  headers: { X-Powered-By: me }
rate_limit: { interval: 1s, burst: 20 }
tls_config: {}
`,
      "web.yml",
    );
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toEqual([
      'web.yml: tls_server_config.min_version: expected "TLS10" | "TLS11" | "TLS12" | "TLS13", got "TLS14"',
      "web.yml: tls_server_config.cipher_suites: not supported by suiteprobe (Go cipher suite names; Node's defaults are used)",
      "web.yml: http_server_config.headers.X-Powered-By: unknown field",
      "web.yml: basic_auth_users.bob: must be a bcrypt hash ($2y$10$...), never a plain password",
      "web.yml: rate_limit: not supported by suiteprobe (put a reverse proxy in front of the agent)",
      "web.yml: tls_config: unknown field",
    ]);
    expect(errors.join("\n")).not.toContain("plain-text-password");
  });

  it("checks files and the client-auth rules after the schema", () => {
    const result = parseWebConfig(
      `tls_server_config:
  cert_file: /nonexistent/suiteprobe/server.crt
  key: inline
  key_file: /nonexistent/suiteprobe/server.key
  client_auth_type: RequireAndVerifyClientCert
`,
      "web.yml",
    );
    expect(result.ok ? [] : result.errors).toEqual([
      "web.yml: tls_server_config.cert_file: /nonexistent/suiteprobe/server.crt cannot be read (ENOENT)",
      "web.yml: tls_server_config.key: set key or key_file, not both",
      "web.yml: tls_server_config.client_ca_file: is required with client_auth_type RequireAndVerifyClientCert",
    ]);
  });
});
