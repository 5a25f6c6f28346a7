import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Reads the refresh token (trimmed); throws a plain Error naming the file and the reason, never the content. */
export async function readRefreshToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`refresh_token_file ${path} cannot be read (${code})`, { cause: error });
  }
  const token = text.trim();
  if (token === "") throw new Error(`refresh_token_file ${path} is empty`);
  return token;
}

/**
 * Replaces the refresh token atomically: a temp file in the same directory (mode 0600, fsynced), then rename over the
 * old one, so a crash leaves either the old or the new token, never half of one.
 */
export async function writeRefreshToken(path: string, token: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${token}\n`, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
