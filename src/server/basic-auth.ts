import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";

/** Successful checks remembered, so a scrape every 15 s does not pay bcrypt's cost each time (as exporter-toolkit). */
const CACHE_SIZE = 64;
/** Compared against when the user is unknown, so that an unknown user costs as much time as a wrong password. */
const DUMMY_HASH = "$2b$10$lCI9IfS1.wO.wmbZ7yydfe0W.5OEvN0AdtaXlHxTId.Z82rGVIOmm";

/** Checks HTTP Basic credentials against bcrypt hashes; never logs or keeps a password (only a digest of a match). */
export class BasicAuth {
  readonly #users: ReadonlyMap<string, string>;
  readonly #verified = new Set<string>();

  constructor(users: ReadonlyMap<string, string>) {
    this.#users = users;
  }

  /** True when no users are configured: every request passes. */
  get isOpen(): boolean {
    return this.#users.size === 0;
  }

  /** Whether the request carries the credentials of a configured user. */
  async isAllowed(req: IncomingMessage): Promise<boolean> {
    if (this.isOpen) return true;
    const credentials = parseBasic(req.headers.authorization);
    if (credentials === undefined) return false;
    const hash = this.#users.get(credentials.user);
    const key = createHash("sha256")
      .update(`${credentials.user}\0${credentials.password}\0${hash ?? ""}`)
      .digest("base64");
    if (hash !== undefined && this.#verified.has(key)) return true;
    // bcrypt's compare is constant-time in the password; the dummy hash keeps unknown users as slow as known ones.
    const isMatch = await bcrypt.compare(credentials.password, hash ?? DUMMY_HASH);
    if (!isMatch || hash === undefined) return false;
    if (this.#verified.size >= CACHE_SIZE) this.#verified.clear();
    this.#verified.add(key);
    return true;
  }
}

/** User and password of an `Authorization: Basic` header, or undefined when absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header?.trim() ?? "");
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
