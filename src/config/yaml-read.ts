/**
 * YAML text to plain data, with the loader's messages. A large config is read in a worker thread: the `yaml`
 * document of a 10,000-check file takes about 200 MB of heap for a few seconds, and in the agent's own heap V8 keeps
 * those pages long after (the agent's RSS stayed hundreds of MB above its live objects); a worker's heap goes with
 * the worker. This module imports only packages, so the worker can run it as it is (from dist/, or from src/ under
 * Node's type stripping in tests).
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { parseDocument } from "yaml";

/** Most alias uses YAML may expand; stops a "billion laughs" document (yaml's own default, made explicit). */
const MAX_ALIAS_COUNT = 100;

/** The data of a YAML text, or its problems as `source:line:col: message` lines. */
export type YamlRead = { ok: true; raw: unknown } | { ok: false; errors: string[] };

/** Parses YAML text in this thread. */
export function readYaml(text: string, source: string): YamlRead {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      errors: document.errors.map((e) => {
        const where = e.linePos?.[0];
        const message = (e.message.split("\n")[0] ?? "YAML error").replace(/ at line \d+, column \d+:?$/, "");
        return `${source}${where ? `:${where.line}:${where.col}` : ""}: ${message}`;
      }),
    };
  }
  try {
    return { ok: true, raw: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {} };
  } catch (error) {
    // yaml throws (a ReferenceError) for an unresolved alias and for an alias expansion over the limit.
    return { ok: false, errors: [`${source}: YAML alias cannot be resolved: ${(error as Error).message}`] };
  }
}

/** Marks the worker's data, so that only a worker started by readYamlApart parses. */
const WORKER_TAG = "suiteprobe-yaml-read";

/** Parses YAML text in a worker thread (the data comes back by structured clone); the same result as readYaml. */
export function readYamlApart(text: string, source: string): Promise<YamlRead> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { tag: WORKER_TAG, text, source } });
    worker.once("message", (result: YamlRead) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`YAML worker exited with ${code} before answering`)));
  });
}

// The worker's entry: this module, started by readYamlApart.
const request = workerData as { tag?: string; text?: string; source?: string } | null;
if (!isMainThread && request?.tag === WORKER_TAG) {
  parentPort?.postMessage(readYaml(request.text ?? "", request.source ?? "config"));
}
