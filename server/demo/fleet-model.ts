import type { ChannelName, PublishInput } from "../../lib/protocol";

/** One event the simulated fleet wants published. */
export interface FleetEvent {
  channel: ChannelName;
  event: PublishInput;
}

const PROJECTS = [
  { name: "atlas", budget: 250 },
  { name: "beacon", budget: 180 },
  { name: "cobalt", budget: 320 },
] as const;
const ROLES = ["planner", "coder", "reviewer", "tester"] as const;
const TASK_TITLES = [
  "Refactor billing webhooks",
  "Write migration for audit log",
  "Triage flaky login test",
  "Summarize customer feedback",
  "Draft release notes",
  "Add rate limiting to search",
  "Investigate memory growth in worker",
  "Translate onboarding emails",
  "Review dependency upgrades",
  "Index product catalog",
];
const MESSAGES = [
  "Can you take a look at my diff?",
  "Tests pass locally; pushing now.",
  "Blocked on credentials for staging.",
  "I split the task in two, see the new ids.",
  "Looks good to me, merging.",
  "Need more context on the acceptance criteria.",
];

type TaskStatus = "created" | "assigned" | "in_progress" | "completed" | "failed";
interface Task {
  id: string;
  title: string;
  project: string;
  status: TaskStatus;
  agent: string | null;
}
interface Agent {
  name: string;
  project: string;
  hired: boolean;
  taskId: string | null;
}

/** A small deterministic PRNG (mulberry32) so a seeded fleet replays the same story. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]! };
}

/**
 * The simulated fleet: twelve agents in three projects that get hired, take tasks through their
 * lifecycle, message each other, spend budget (with warnings at 80% and 100% of a project's daily
 * budget) and now and then hit a system error. Pure: it only says what happens next.
 */
export class FleetModel {
  private readonly random;
  private readonly agents: Agent[];
  private readonly tasks = new Map<string, Task>();
  private readonly spent = new Map<string, number>();
  private readonly warned = new Map<string, number>();
  private taskCounter = 0;
  private step = 0;

  constructor(seed = Date.now()) {
    this.random = createRandom(seed);
    this.agents = PROJECTS.flatMap((p) => ROLES.map((role) => ({ name: `${p.name}-${role}`, project: p.name, hired: false, taskId: null })));
  }

  get agentNames() {
    return this.agents.map((a) => a.name);
  }

  next(): FleetEvent {
    this.step++;
    const unhired = this.agents.find((a) => !a.hired);
    if (unhired) return this.hire(unhired);
    const roll = this.random.next();
    if (roll < 0.3) return this.advanceTask();
    if (roll < 0.5) return this.heartbeat();
    if (roll < 0.7) return this.spend();
    if (roll < 0.95) return this.message();
    if (roll < 0.99 || this.step % 2 === 0) return this.createTask();
    return this.systemError();
  }

  private hire(agent: Agent): FleetEvent {
    agent.hired = true;
    return {
      channel: "agents",
      event: { type: "agent.hired", agent: agent.name, project: agent.project, payload: { role: agent.name.split("-")[1], model: this.random.pick(["large", "medium", "small"]) } },
    };
  }

  private heartbeat(): FleetEvent {
    const agent = this.random.pick(this.agents);
    return {
      channel: "agents",
      event: { type: "agent.heartbeat", agent: agent.name, project: agent.project, payload: { status: agent.taskId ? "busy" : "idle", taskId: agent.taskId } },
    };
  }

  private createTask(): FleetEvent {
    const project = this.random.pick(PROJECTS).name;
    const task: Task = { id: `T-${++this.taskCounter}`, title: this.random.pick(TASK_TITLES), project, status: "created", agent: null };
    this.tasks.set(task.id, task);
    // Keep the working set small: forget finished tasks beyond the newest hundred.
    if (this.tasks.size > 100) {
      for (const [id, t] of this.tasks) {
        if (t.status === "completed" || t.status === "failed") {
          this.tasks.delete(id);
          break;
        }
      }
    }
    return { channel: "tasks", event: { type: "task.created", agent: null, project, payload: { taskId: task.id, title: task.title, status: "created" } } };
  }

  private advanceTask(): FleetEvent {
    const open = [...this.tasks.values()].filter((t) => t.status !== "completed" && t.status !== "failed");
    if (open.length === 0) return this.createTask();
    const task = this.random.pick(open);
    const from = task.status;
    if (task.status === "created") {
      const free = this.agents.filter((a) => a.project === task.project && a.taskId === null);
      if (free.length === 0) return this.message();
      const agent = this.random.pick(free);
      agent.taskId = task.id;
      task.agent = agent.name;
      task.status = "assigned";
    } else if (task.status === "assigned") {
      task.status = "in_progress";
    } else {
      task.status = this.random.next() < 0.85 ? "completed" : "failed";
      const agent = this.agents.find((a) => a.name === task.agent);
      if (agent) agent.taskId = null;
    }
    const type = task.status === "completed" ? "task.completed" : task.status === "failed" ? "task.failed" : task.status === "assigned" ? "task.assigned" : "task.status_changed";
    return {
      channel: "tasks",
      event: { type, agent: task.agent, project: task.project, payload: { taskId: task.id, title: task.title, from, status: task.status } },
    };
  }

  private spend(): FleetEvent {
    const agent = this.random.pick(this.agents);
    const project = PROJECTS.find((p) => p.name === agent.project)!;
    const amount = Math.round(this.random.next() * 150) / 100;
    const total = Math.round(((this.spent.get(project.name) ?? 0) + amount) * 100) / 100;
    this.spent.set(project.name, total);
    const ratio = total / project.budget;
    const level = ratio >= 1 ? 1 : ratio >= 0.8 ? 0.8 : 0;
    if (level > (this.warned.get(project.name) ?? 0)) {
      this.warned.set(project.name, level);
      return {
        channel: "budget",
        event: { type: "budget.warning", agent: agent.name, project: project.name, payload: { spent: total, budget: project.budget, threshold: level, currency: "USD" } },
      };
    }
    return {
      channel: "budget",
      event: { type: "budget.spent", agent: agent.name, project: project.name, payload: { amount, total, budget: project.budget, currency: "USD" } },
    };
  }

  private message(): FleetEvent {
    const from = this.random.pick(this.agents);
    const peers = this.agents.filter((a) => a.project === from.project && a !== from);
    const to = this.random.pick(peers);
    return {
      channel: "messages",
      event: { type: "message.sent", agent: from.name, project: from.project, payload: { from: from.name, to: to.name, text: this.random.pick(MESSAGES) } },
    };
  }

  private systemError(): FleetEvent {
    const agent = this.random.pick(this.agents);
    return {
      channel: "system",
      event: { type: "system.error", agent: agent.name, project: agent.project, payload: { message: `Tool call timed out after 30s (${this.random.pick(["search", "shell", "browser"])})`, severity: "warning" } },
    };
  }
}
