/**
 * Response shapes of the dashboard's read models (`/api/v1/views/*`). They are projections of the
 * channels' events that follow the payload conventions in docs/protocol.md ("Payload conventions").
 */
export interface ActivityView {
  minutes: number;
  /** Start of the oldest minute, ISO-8601. */
  from: string;
  /** Events per minute, oldest first; the last entry is the current minute. */
  channels: { name: string; lastSeq: number; perMinute: number[] }[];
}

export type AgentStatus = "online" | "idle" | "offline";

export interface AgentView {
  name: string;
  project: string | null;
  status: AgentStatus;
  /** Last event of the agent on the agents channel (heartbeat or hire). */
  lastSeen: string;
  currentTask: { taskId: string; title: string | null; status: string } | null;
  spend: number;
}

export type TaskStatus = "created" | "assigned" | "in_progress" | "completed" | "failed";
export const TASK_STATUSES: TaskStatus[] = ["created", "assigned", "in_progress", "completed", "failed"];

export interface TaskView {
  taskId: string;
  title: string | null;
  status: string;
  project: string | null;
  agent: string | null;
  updatedAt: string;
  /** Seq of the task's latest event on the tasks channel. */
  seq: number;
}

export interface BudgetView {
  hours: number;
  bucketMinutes: number;
  projects: { project: string; budget: number | null; spentToday: number; currency: string | null }[];
  /** Spend per bucket, project and agent, oldest first. */
  series: { bucket: string; project: string | null; agent: string | null; amount: number }[];
  warnings: { seq: number; ts: string; project: string | null; agent: string | null; payload: Record<string, unknown> }[];
}

export interface ConversationView {
  /** The two agents, in alphabetical order. */
  agents: [string, string];
  project: string | null;
  count: number;
  last: { ts: string; from: string; text: string };
}

export const TASK_STATUS_LABELS: Record<TaskStatus, string> = {
  created: "Created",
  assigned: "Assigned",
  in_progress: "In progress",
  completed: "Completed",
  failed: "Failed",
};
