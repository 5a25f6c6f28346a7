import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { testCerts } from "./certs.js";
import { freePort } from "./net.js";

/** Options of a test Dovecot. */
export interface DovecotOptions {
  /** `ssl = yes` with the CA-signed test leaf: STARTTLS on the imap port plus an implicit-TLS imaps port. */
  isTls?: boolean;
}

/** A Dovecot 2.3 instance under a temp folder, running in the foreground as a child of the test process. */
export interface TestDovecot {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Implicit TLS port; undefined without `isTls`. */
  readonly tlsPort: number | undefined;
  /** CA that signed the server certificate (for `ca_file`); undefined without `isTls`. */
  readonly caFile: string | undefined;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  /** Maildir++ directory of a folder: INBOX is the root, others `.Name`. */
  folderDir(folder?: string): string;
  /** Writes a message straight into a folder's `new/` (tmp → new, owned by mail), as an MDA would. */
  deliver(raw: string, folder?: string): Promise<string>;
  /** The raw messages currently in a folder (new and cur). */
  messages(folder?: string): Promise<string[]>;
  /** Removes message files matching `predicate` behind Dovecot's back (it notices at the next sync). */
  deleteWhere(predicate: (raw: string) => boolean, folder?: string): Promise<number>;
  start(): Promise<void>;
  /** SIGTERM and wait for the master to exit: its listeners are closed when this resolves. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
  log(): Promise<string>;
}

const USER = "probe";
const MAIL_UID = Number(execFileSync("id", ["-u", "mail"]).toString().trim());
const MAIL_GID = Number(execFileSync("id", ["-g", "mail"]).toString().trim());
let deliveries = 0;

/** Creates the folder, config and Maildir, then starts Dovecot and waits for its greeting. */
export async function startDovecot(options: DovecotOptions = {}): Promise<TestDovecot> {
  const dir = await mkdtemp(join(tmpdir(), "sp-dovecot-"));
  // Login (dovenull) and mail (mail) processes must traverse it.
  await chmod(dir, 0o755);
  const password = `pw-${randomBytes(6).toString("hex")}`;
  const port = await freePort();
  const tlsPort = options.isTls === true ? await freePort() : undefined;
  const certs = options.isTls === true ? await testCerts() : undefined;
  const mailRoot = join(dir, "mail", USER);
  const folderDir = (folder = "INBOX"): string => (folder === "INBOX" ? mailRoot : join(mailRoot, `.${folder}`));
  for (const folder of ["INBOX", "Junk"]) {
    for (const sub of ["cur", "new", "tmp"]) await mkdir(join(folderDir(folder), sub), { recursive: true });
  }
  await writeFile(join(folderDir("Junk"), "maildirfolder"), "");
  await chownTree(join(dir, "mail"));
  await writeFile(join(dir, "passwd"), `${USER}:{PLAIN}${password}\n`);
  const config = dovecotConfig({ dir, port, tlsPort, cert: certs?.leaf });
  await writeFile(join(dir, "dovecot.conf"), config);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const server: TestDovecot = {
    host: "127.0.0.1",
    port,
    tlsPort,
    caFile: certs?.ca.certPath,
    user: USER,
    password,
    dir,
    folderDir,
    async deliver(raw, folder) {
      return writeMaildirMessage(folderDir(folder), raw);
    },
    async messages(folder) {
      const out: string[] = [];
      for (const sub of ["new", "cur"]) {
        for (const name of await readdir(join(folderDir(folder), sub))) {
          out.push(await readFile(join(folderDir(folder), sub, name), "utf8"));
        }
      }
      return out;
    },
    async deleteWhere(predicate, folder) {
      let count = 0;
      for (const sub of ["new", "cur"]) {
        for (const name of await readdir(join(folderDir(folder), sub))) {
          const path = join(folderDir(folder), sub, name);
          if (predicate(await readFile(path, "utf8"))) {
            await rm(path, { force: true });
            count += 1;
          }
        }
      }
      return count;
    },
    async start() {
      // Its own process group: mail processes outlive a SIGTERMed master (Dovecot 2.3), so stop() signals the group.
      const proc = spawn("dovecot", ["-F", "-c", join(dir, "dovecot.conf")], {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let output = "";
      proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
      proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
      child = proc;
      exited = new Promise((resolve) => proc.once("exit", () => resolve()));
      try {
        await waitForGreeting(port, proc);
      } catch (error) {
        proc.kill("SIGKILL");
        throw new Error(`dovecot did not start: ${output}\n${await server.log()}`, { cause: error });
      }
    },
    async stop() {
      const proc = child;
      child = undefined;
      if (proc?.pid === undefined) return;
      const group = -proc.pid;
      // SIGTERM to every process of the instance: imap processes say "* BYE Server shutting down." and exit.
      signalGroup(group, "SIGTERM");
      const timer = setTimeout(() => signalGroup(group, "SIGKILL"), 10_000);
      await exited;
      while (signalGroup(group, 0)) await new Promise((resolve) => setTimeout(resolve, 20));
      clearTimeout(timer);
    },
    async dispose() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
    async log() {
      return readFile(join(dir, "dovecot.log"), "utf8").catch(() => "");
    },
  };
  await server.start();
  return server;
}

/** Sends `signal` to a process group; false when the group no longer exists. */
function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(group, signal);
    return true;
  } catch {
    return false;
  }
}

function dovecotConfig(o: {
  dir: string;
  port: number;
  tlsPort: number | undefined;
  cert: { certPath: string; keyPath: string } | undefined;
}): string {
  const ssl =
    o.cert === undefined
      ? "ssl = no"
      : `ssl = yes\nssl_cert = <${o.cert.certPath}\nssl_key = <${o.cert.keyPath}\nssl_min_protocol = TLSv1.2`;
  const imaps =
    o.tlsPort === undefined
      ? ""
      : `  inet_listener imaps {\n    address = 127.0.0.1\n    port = ${o.tlsPort}\n    ssl = yes\n  }\n`;
  return `# Generated by tests/helpers/dovecot.ts
base_dir = ${o.dir}/run
state_dir = ${o.dir}/state
log_path = ${o.dir}/dovecot.log
instance_name = sp-${randomBytes(4).toString("hex")}
listen = 127.0.0.1
protocols = imap
${ssl}
# Plaintext LOGIN on loopback for the ssl = no tests.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = no
# Failed logins answer at once (default 2s) to keep the suite fast.
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
# Mail processes run as the Debian 'mail' user (uid 8), below Dovecot's default first_valid_uid of 500.
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:${o.dir}/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${o.dir}/passwd
}
userdb {
  driver = static
  args = uid=${MAIL_UID} gid=${MAIL_GID} home=${o.dir}/mail/%u
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
}
# No auth penalty for an IP after failed logins: the wrong-password test must not slow the next ones.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${o.port}
  }
${imaps}}
`;
}

/** Polls until the server sends its real greeting (Dovecot first says "Waiting for authentication process"). */
async function waitForGreeting(port: number, proc: ChildProcess): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`dovecot exited with ${proc.exitCode}`);
    const greeting = await new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      let text = "";
      const done = (): void => {
        socket.destroy();
        resolve(text);
      };
      socket.on("data", (d: Buffer) => {
        text += d.toString();
        if (text.includes("ready.")) done();
      });
      socket.on("error", done);
      socket.on("close", done);
      setTimeout(done, 500);
    });
    if (greeting.includes("ready.")) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("no greeting within 15s");
}

async function chownTree(path: string): Promise<void> {
  await chown(path, MAIL_UID, MAIL_GID);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(path, entry.name));
    else await chown(join(path, entry.name), MAIL_UID, MAIL_GID);
  }
}

/**
 * Delivers like an MDA (maildir(5)): write `tmp/<unique>`, chown to mail, rename into `new/`; Dovecot picks the file
 * up at the next SELECT/NOOP/IDLE wake-up. Returns the file name.
 */
export async function writeMaildirMessage(folderDir: string, raw: string): Promise<string> {
  deliveries += 1;
  const now = Date.now();
  const data = Buffer.from(raw.replace(/\r\n/g, "\n"));
  const name = `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${deliveries}.${hostname()},S=${data.length}`;
  const tmp = join(folderDir, "tmp", name);
  await writeFile(tmp, data, { mode: 0o600 });
  await chown(tmp, MAIL_UID, MAIL_GID);
  await rename(tmp, join(folderDir, "new", name));
  return name;
}
