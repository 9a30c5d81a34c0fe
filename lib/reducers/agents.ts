/**
 * The agents view's live reducer: heartbeats and hires on the agents channel move an agent's
 * `lastSeen` and status (lib/agent-status.ts). The view answer names no seq; each agent carries its
 * head instead, `lastSeen` (the time of its latest event, which the server assigns in seq order), so
 * an event at or before it, or applied twice, changes nothing.
 */
import { agentStatus } from "../agent-status";
import type { SwitchboardEvent } from "../protocol";
import type { AgentView } from "../views";

const STATUS_EVENTS = new Set(["agent.heartbeat", "agent.hired"]);

/**
 * The agents after `events`; the same array when nothing changed. An agent's status is the one at
 * its event's time: whether it has gone offline since depends on the clock (`isAgentOffline`).
 */
export function applyAgentEvents(agents: AgentView[], events: readonly SwitchboardEvent[]): AgentView[] {
  let byName: Map<string, AgentView> | null = null;
  let changed = false;
  for (const event of events) {
    if (event.channel !== "agents" || !event.agent || !STATUS_EVENTS.has(event.type)) continue;
    byName ??= new Map(agents.map((a) => [a.name, a]));
    const known = byName.get(event.agent);
    if (known && known.lastSeen >= event.ts) continue;
    const status = agentStatus({ lastSeen: event.ts, busy: event.payload.status === "busy", holdsOpenTask: known?.currentTask != null }, event.ts, Infinity);
    byName.set(event.agent, {
      name: event.agent,
      project: event.project ?? known?.project ?? null,
      status,
      lastSeen: event.ts,
      currentTask: known?.currentTask ?? null,
      spend: known?.spend ?? 0,
    });
    changed = true;
  }
  return byName && changed ? [...byName.values()] : agents;
}
