import { describe, expect, it } from "vitest";
import { parseProxyUrl, proxyForUrl } from "../../probes/wire/http/proxy.js";

const env = {
  HTTPS_PROXY: "http://proxy.corp:3128",
  HTTP_PROXY: "proxy.corp:8080",
  NO_PROXY: "localhost,.internal,10.1.2.3:8443",
};

describe("proxyForUrl", () => {
  it.each([
    ["https://graph.microsoft.com/v1.0", "http://proxy.corp:3128/"],
    ["http://status.example.com/", "http://proxy.corp:8080/"],
    ["https://localhost/", undefined],
    ["https://a.b.internal/", undefined],
    ["https://internal/", undefined],
    ["https://notinternal/", "http://proxy.corp:3128/"],
    ["https://10.1.2.3:8443/", undefined],
    ["https://10.1.2.3/", "http://proxy.corp:3128/"],
  ])("%s → %s", (url, expected) => {
    expect(proxyForUrl(new URL(url), env)?.href).toBe(expected);
  });

  it("reads lower-case names, honours NO_PROXY=* and ignores empty values", () => {
    expect(proxyForUrl(new URL("https://x/"), { https_proxy: "http://p:1" })?.host).toBe("p:1");
    expect(proxyForUrl(new URL("https://x/"), { HTTPS_PROXY: "http://p:1", NO_PROXY: "*" })).toBeUndefined();
    expect(proxyForUrl(new URL("https://x/"), { HTTPS_PROXY: " " })).toBeUndefined();
  });

  it("refuses proxies it cannot speak to, without echoing credentials", () => {
    expect(() => parseProxyUrl("socks5://u:secret@p:1080")).toThrow(/socks5: is not supported/);
    expect(() => parseProxyUrl("http://[bad")).toThrow("proxy is not a valid URL");
  });
});
