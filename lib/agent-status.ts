/**
 * The one agent-status rule, used by the server's agents view (server/views/dashboard-views.ts) and
 * by the dashboard when live heartbeats or the passing of time change an agent's status.
 */
import type { AgentStatus } from "./views";

/** An agent silent for this long is offline (the dashboard's default). */
export const DEFAULT_OFFLINE_AFTER_SECONDS = 60;

type Instant = Date | string | number;
const msOf = (t: Instant) => (t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : t);

/** The agent's last event is older than `offlineAfterSeconds` at `now`. */
export const isAgentOffline = (lastSeen: Instant, now: Instant, offlineAfterSeconds: number) => msOf(now) - msOf(lastSeen) > offlineAfterSeconds * 1000;

export interface AgentStatusInput {
  /** Time of the agent's last event on the agents channel. */
  lastSeen: Instant;
  /** That event said `status: "busy"`. */
  busy: boolean;
  /** The agent holds an assigned or in_progress task. */
  holdsOpenTask: boolean;
}

/** Offline when the last event is older than `offlineAfterSeconds`; online when busy or holding an open task; else idle. */
export function agentStatus({ lastSeen, busy, holdsOpenTask }: AgentStatusInput, now: Instant, offlineAfterSeconds: number): AgentStatus {
  if (isAgentOffline(lastSeen, now, offlineAfterSeconds)) return "offline";
  return busy || holdsOpenTask ? "online" : "idle";
}
