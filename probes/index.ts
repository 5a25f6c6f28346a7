import type { AnyProbeKind } from "../src/core/probe.js";
import { entraSigninKind } from "./entra-signin.js";
import { httpKind } from "./http.js";
import { driveSearchKind } from "./drive-search.js";
import { graphSearchKind } from "./graph-search.js";
import { imapKind } from "./imap.js";
import { m365ServiceHealthKind } from "./m365-service-health.js";
import { mailRoundtripKind } from "./mail-roundtrip.js";
import { slackChatKind } from "./slack-chat.js";
import { slackStatusKind } from "./slack-status.js";
import { smtpKind } from "./smtp.js";
import { teamsChatKind } from "./teams-chat.js";

/** THE registry of probe kinds: the config union, `kind` labels, the README table and check-config derive from it. */
export const PROBE_KINDS: readonly AnyProbeKind[] = [
  smtpKind,
  imapKind,
  mailRoundtripKind,
  httpKind,
  entraSigninKind,
  slackChatKind,
  teamsChatKind,
  graphSearchKind,
  driveSearchKind,
  m365ServiceHealthKind,
  slackStatusKind,
];
