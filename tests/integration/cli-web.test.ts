import { describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../helpers/cli.js";

const CONFIG = "checks:\n  - { name: a, kind: smtp, target: 127.0.0.1, interval: 1h }\n";

describe("--web.config.file", () => {
  it("reports config and web config problems together, one line each, exit 2", async () => {
    const config = writeConfig("agent: { log_level: loud }\n");
    const web = writeConfig(
      "basic_auth_users:\n  alice: hunter2\ntls_server_config: { cert_file: /nonexistent/c.pem }\n",
    );
    const result = await runCli(["check-config", "--config", config, "--web.config.file", web]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      'agent.log_level: expected "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent", got "loud"',
      `${web}: basic_auth_users.alice: must be a bcrypt hash ($2y$10$...), never a plain password`,
      `${web}: tls_server_config.cert_file: /nonexistent/c.pem cannot be read (ENOENT)`,
      `${web}: tls_server_config.key_file: is required (or key inline)`,
      `suiteprobe: ${config} and ${web}: 4 problem(s); nothing was run`,
    ]);
    expect(result.stderr).not.toContain("hunter2");
  });

  it("check-config summarises a valid web config", async () => {
    const web = writeConfig(
      'basic_auth_users:\n  alice: "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"\n',
    );
    const result = await runCli(["check-config", "--config", writeConfig(CONFIG), "--web.config.file", web]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${web}: OK, plain HTTP, 1 basic-auth user(s), 0 extra header(s)`);
  });

  it("web flags belong to run (and check-config): elsewhere they are usage errors", async () => {
    const result = await runCli(["once", "--config", writeConfig(CONFIG), "--web.enable-lifecycle"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--web.enable-lifecycle is not an option of once");
  });
});
