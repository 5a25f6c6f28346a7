// The lab: the simulated suite on loopback — SMTP submission, an IMAP mailbox, the Microsoft 365 / Slack HTTP
// simulator (lab/sim, the same module the kinds' tests use) — with faults per service switchable at run time.
import { startSimulator, type Simulator } from "./sim/index.js";
import { faultSchema, SIM_ENDPOINTS, type SimEndpoint, type SimFault } from "./sim/faults.js";
import { imapFaultSchema, MailFaults, smtpFaultSchema, type ImapFault, type SmtpFault } from "./mail/faults.js";
import { startLabImap, type LabImap } from "./mail/imap.js";
import { Mailbox } from "./mail/mailbox.js";
import { startLabSmtp, type LabSmtp } from "./mail/smtp.js";

/** Every service a fault can be set on: the two mail services and each simulator endpoint. */
export const LAB_SERVICES = ["smtp", "imap", ...SIM_ENDPOINTS] as const;
/** One lab service. */
export type LabService = (typeof LAB_SERVICES)[number];

/** A fault of any service (validated against that service's schema when set). */
export type LabFault = SmtpFault | ImapFault | SimFault;

/** Where the lab listens; port 0 picks a free port. */
export interface LabOptions {
  host?: string;
  smtpPort?: number;
  imapPort?: number;
  simPort?: number;
  /** Seed of the fault dice (same seed, same run). */
  seed?: number;
  /** The probe account of the IMAP mailbox. */
  account: { user: string; password: string };
}

/** Default loopback ports of `suiteprobe lab`, matching config/lab.yaml. */
export const LAB_PORTS = { smtp: 2525, imap: 2143, sim: 2080, metrics: 2090 } as const;

/** A running lab. */
export class Lab {
  readonly #mail: MailFaults;

  private constructor(
    readonly mailbox: Mailbox,
    readonly smtp: LabSmtp,
    readonly imap: LabImap,
    readonly sim: Simulator,
    mail: MailFaults,
  ) {
    this.#mail = mail;
  }

  /** Starts every service of the lab. */
  static async start(options: LabOptions): Promise<Lab> {
    const host = options.host ?? "127.0.0.1";
    const mailbox = new Mailbox();
    const mail = new MailFaults(options.seed ?? 1);
    const smtp = await startLabSmtp(host, options.smtpPort ?? 0, mailbox, mail);
    const imap = await startLabImap(host, options.imapPort ?? 0, mailbox, mail, options.account).catch(
      async (error: unknown) => {
        await smtp.close();
        throw error;
      },
    );
    const sim = await startSimulator({ host, port: options.simPort ?? 0, seed: options.seed ?? 1 }).catch(
      async (error: unknown) => {
        await Promise.all([smtp.close(), imap.close()]);
        throw error;
      },
    );
    return new Lab(mailbox, smtp, imap, sim, mail);
  }

  /** Replaces the faults of a service (throws a ZodError on a fault that does not fit the service). */
  setFaults(service: LabService, faults: readonly unknown[]): void {
    if (service === "smtp") this.#mail.smtp = faults.map((f) => smtpFaultSchema.parse(f));
    else if (service === "imap") this.#mail.imap = faults.map((f) => imapFaultSchema.parse(f));
    else
      this.sim.setFault(
        service,
        faults.map((f) => faultSchema.parse(f)),
      );
  }

  /** Clears the faults of one service, or of all. */
  clearFaults(service?: LabService): void {
    if (service === undefined || service === "smtp") this.#mail.smtp = [];
    if (service === undefined || service === "imap") this.#mail.imap = [];
    if (service === undefined) this.sim.clearFaults();
    else if (service !== "smtp" && service !== "imap") this.sim.clearFaults(service);
  }

  /** The faults set now, per service (services without faults left out). */
  faults(): Partial<Record<LabService, LabFault[]>> {
    const out: Partial<Record<LabService, LabFault[]>> = { ...this.sim.faults() };
    if (this.#mail.smtp.length > 0) out.smtp = [...this.#mail.smtp];
    if (this.#mail.imap.length > 0) out.imap = [...this.#mail.imap];
    return out;
  }

  /** Stops every service. */
  async close(): Promise<void> {
    await Promise.all([this.smtp.close(), this.imap.close(), this.sim.close()]);
  }
}

/** Whether a string names a lab service. */
export function isLabService(name: string): name is LabService {
  return (LAB_SERVICES as readonly string[]).includes(name);
}

/** A simulator endpoint, for the scenario's sim actions. */
export type { SimEndpoint };
