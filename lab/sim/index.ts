// Public surface of the Microsoft 365 / Slack simulator (lab/sim): import from here, not from the files.
export { startSimulator, Simulator, type SimulatorOptions, type SimLeftovers } from "./server.js";
export { SIM_ENDPOINTS, faultSchema, type SimEndpoint, type SimFault, type SimFaultType } from "./faults.js";
export {
  defaultWorld,
  type SimWorld,
  type SimApp,
  type SimSlackBot,
  type SimRefreshToken,
  type SimRequestRecord,
} from "./state.js";
export { AADSTS } from "./entra.js";
export { SERVICE_HEALTH_STATUSES, type ServiceHealthStatus, type NewIssue } from "./graph-health.js";
export type { NewSlackIncident } from "./slack.js";
export type { SlackIncident } from "./core.js";
