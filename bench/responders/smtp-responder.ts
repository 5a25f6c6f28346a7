/**
 * A fast SMTP responder for the bench, run as a child process (`fork`) so its CPU is measured apart from the agent.
 * One listener on 127.0.0.1 per profile (argv[2]: JSON list of profiles); it answers the dialogue of an SMTP check
 * (banner, EHLO, MAIL, RCPT, RSET, QUIT) with optional delays, a 451 at RCPT, or rotating failures, and counts the
 * decisive reply it sent per profile so the bench can check the agent's counters against it.
 */
import { createServer, type Socket } from "node:net";

/** How one listener behaves. */
export interface SmtpProfile {
  name: string;
  bannerDelayMs?: number;
  rcptDelayMs?: number;
  /** ok: 250 at RCPT; fail451: 451 4.3.2 at RCPT; rotate: 451 at RCPT, 550 at RCPT, 421 at the banner, reset. */
  mode: "ok" | "fail451" | "rotate";
}

/** What the responder reports on `{ type: "stats" }`. */
export interface SmtpResponderStats {
  /** Decisive replies sent, by profile and outcome (`ok`, `451`, `550`, `421`, `reset`). */
  counts: Record<string, Record<string, number>>;
  cpuSeconds: number;
  /** How late the responder's own delay timers fired, ms (it is on the same loaded machine). */
  timerLateMs: { p50: number; p99: number; n: number };
}

const EHLO_REPLY = "250-bench.local\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10240000\r\n";
const profiles = JSON.parse(process.argv[2] ?? "[]") as SmtpProfile[];
const counts: Record<string, Record<string, number>> = {};
const late: number[] = [];
let lateNext = 0;

function count(profile: string, outcome: string): void {
  const byOutcome = (counts[profile] ??= {});
  byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
}

function later(ms: number, fn: () => void): void {
  if (ms <= 0) return fn();
  const started = performance.now();
  setTimeout(() => {
    // A ring of the last 20,000 lateness samples: bounded memory over a soak.
    late[lateNext] = performance.now() - started - ms;
    lateNext = (lateNext + 1) % 20_000;
    fn();
  }, ms);
}

function serve(profile: SmtpProfile, socket: Socket, session: number): void {
  socket.setNoDelay(true);
  socket.on("error", () => undefined);
  const failure = profile.mode === "rotate" ? (["451", "550", "421", "reset"] as const)[session % 4] : undefined;
  if (failure === "reset") {
    count(profile.name, "reset");
    socket.resetAndDestroy();
    return;
  }
  if (failure === "421") {
    count(profile.name, "421");
    socket.end("421 4.3.2 Service not available, closing channel\r\n");
    return;
  }
  let buffer = "";
  const write = (text: string) => {
    if (!socket.destroyed) socket.write(text);
  };
  later(profile.bannerDelayMs ?? 0, () => write("220 bench.local ESMTP ready\r\n"));
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    if (buffer.length > 65_536) return socket.destroy();
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end).trimEnd().toUpperCase();
      buffer = buffer.slice(end + 1);
      if (line.startsWith("EHLO") || line.startsWith("HELO")) write(EHLO_REPLY);
      else if (line.startsWith("MAIL")) write("250 2.1.0 Ok\r\n");
      else if (line.startsWith("RCPT")) {
        const reply =
          profile.mode === "fail451" || failure === "451"
            ? "451 4.3.2 Try again later"
            : failure === "550"
              ? "550 5.1.1 No such user"
              : "250 2.1.5 Ok";
        later(profile.rcptDelayMs ?? 0, () => {
          count(profile.name, reply.slice(0, 3) === "250" ? "ok" : reply.slice(0, 3));
          write(`${reply}\r\n`);
        });
      } else if (line.startsWith("RSET")) write("250 2.0.0 Ok\r\n");
      else if (line.startsWith("QUIT")) {
        socket.end("221 2.0.0 Bye\r\n");
        return;
      } else write("502 5.5.2 Error: command not recognized\r\n");
    }
  });
}

const ports: Record<string, number> = {};
await Promise.all(
  profiles.map(
    (profile) =>
      new Promise<void>((resolve) => {
        let session = 0;
        const server = createServer((socket) => serve(profile, socket, session++));
        server.maxConnections = 20_000;
        server.listen(0, "127.0.0.1", 4096, () => {
          const address = server.address();
          ports[profile.name] = typeof address === "object" && address !== null ? address.port : 0;
          resolve();
        });
      }),
  ),
);

process.on("message", (message: { type: string }) => {
  if (message.type !== "stats") return;
  const usage = process.cpuUsage();
  const sorted = late.filter((x) => x !== undefined).sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const stats: SmtpResponderStats = {
    counts,
    cpuSeconds: (usage.user + usage.system) / 1e6,
    timerLateMs: { p50: pick(0.5), p99: pick(0.99), n: sorted.length },
  };
  process.send?.({ type: "stats", stats });
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready", ports });
