import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { join } from "node:path";

/** dist/bench, where the compiled child scripts are. */
const HERE = join(import.meta.dirname, "..");

/** A forked child speaking the bench's IPC: `{ type }` requests, `{ type, ... }` answers. */
export class Child {
  readonly process: ChildProcess;

  /** `nodeFlags` come before BENCH_CHILD_EXEC_ARGV's. */
  constructor(script: string, args: string[], nodeFlags: readonly string[] = []) {
    this.process = fork(join(HERE, script), args, {
      // The agent's JSON log goes to /dev/null: its cost is measured, its text is not needed.
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      // BENCH_CHILD_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the children (the agent host exits on SIGTERM).
      execArgv: [...nodeFlags, ...(process.env.BENCH_CHILD_EXEC_ARGV ?? "").split(" ").filter((a) => a !== "")],
    });
  }

  /** The child's pid. */
  get pid(): number {
    return this.process.pid ?? 0;
  }

  /** Waits for the next message of `type` (bounded by `timeoutMs`). */
  next<T>(type: string, timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${type} message from ${this.pid} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        cleanup();
        resolve(message as T);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`child ${this.pid} exited with ${code} before sending ${type}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.process.off("message", onMessage);
        this.process.off("exit", onExit);
      };
      this.process.on("message", onMessage);
      this.process.on("exit", onExit);
    });
  }

  /** Sends `{ type }` and waits for the answer of type `answer`. */
  ask<T>(type: string, answer = type, timeoutMs?: number): Promise<T> {
    const reply = this.next<T>(answer, timeoutMs);
    this.process.send({ type });
    return reply;
  }

  /** Ends the child and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, "exit");
    this.process.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
  }
}

/** One HTTP GET on 127.0.0.1: status, body (decompressed size not computed here), bytes on the wire, ms. */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ status: number; body: Buffer; ms: number; headers: Record<string, unknown> }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
          headers: res.headers,
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
