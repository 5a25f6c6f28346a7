import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { z } from "zod";
import { ProbeError } from "./probe-error.js";

const REFERENCE = /^\$\{(env|file):([^}]+)\}$/;

/** A secret held by reference (`${env:NAME}` or `${file:/path}`); read when needed, printed as `<secret>`. */
export class Secret {
  readonly #source: "env" | "file";
  readonly #name: string;

  constructor(source: "env" | "file", name: string) {
    this.#source = source;
    this.#name = name;
  }

  /** The reference as written (`${env:NAME}`), never the value: for telling changed config apart. */
  get reference(): string {
    return `\${${this.#source}:${this.#name}}`;
  }

  /** Why the reference cannot be read now, without the value; undefined when it can. */
  problem(): string | undefined {
    try {
      this.#read();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : "cannot be read";
    }
  }

  /** The value (file contents trimmed). Throws a `config`-class ProbeError if it has gone since load. */
  reveal(): string {
    try {
      return this.#read();
    } catch (error) {
      const reason = error instanceof Error ? error.message : "cannot be read";
      throw new ProbeError(`secret ${reason}`, { facts: { protocol: "probe", input: { class: "config" } } });
    }
  }

  #read(): string {
    if (this.#source === "env") {
      const value = process.env[this.#name];
      if (value === undefined || value === "") throw new Error(`environment variable ${this.#name} is not set`);
      return value;
    }
    let text: string;
    try {
      text = readFileSync(this.#name, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      throw new Error(`file ${this.#name} cannot be read (${code})`, { cause: error });
    }
    const value = text.trim();
    if (value === "") throw new Error(`file ${this.#name} is empty`);
    return value;
  }

  toJSON(): string {
    return "<secret>";
  }

  toString(): string {
    return "<secret>";
  }

  [inspect.custom](): string {
    return "<secret>";
  }
}

/** A config field holding a secret reference; a literal value is refused so that secrets never sit in YAML. */
export const secretRef = z
  .string()
  .regex(REFERENCE, { message: "must be a reference like ${env:NAME} or ${file:/path}, not a literal secret" })
  .transform((text) => {
    const [, source, name] = REFERENCE.exec(text) as unknown as [string, "env" | "file", string];
    return new Secret(source, name);
  })
  .describe("A secret reference: ${env:NAME} or ${file:/path} (file contents are trimmed).");
