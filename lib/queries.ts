/** One `queryOptions` factory per query, shared by every component (and any future server prefetch). */
import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { DEFAULT_OFFLINE_AFTER_SECONDS } from "./agent-status";
import {
  fetchActivity,
  fetchAgents,
  fetchBudget,
  fetchConversation,
  fetchConversations,
  fetchTasks,
  getSession,
  listChannels,
} from "./api-client";

/** How often the channel counters refresh; live events bump them in between. */
export const CHANNELS_REFRESH_MS = 5_000;
/** Views refresh this often; live events update them in between. */
export const VIEW_REFRESH_MS = 15_000;
/** An agent silent for this long is offline (lib/agent-status.ts). */
export const OFFLINE_AFTER_SECONDS = DEFAULT_OFFLINE_AFTER_SECONDS;
export const ACTIVITY_MINUTES = 30;
export const TASK_LIMIT = 500;

export const sessionQueryOptions = () =>
  queryOptions({
    queryKey: ["session"],
    queryFn: ({ signal }) => getSession({ signal }),
    // A role changes only by signing in again, which reloads the page.
    staleTime: 5 * 60_000,
  });

export const channelsQueryOptions = () =>
  queryOptions({
    queryKey: ["channels"],
    queryFn: ({ signal }) => listChannels({ signal }),
    refetchInterval: CHANNELS_REFRESH_MS,
    staleTime: CHANNELS_REFRESH_MS,
  });

export const activityQueryOptions = () =>
  queryOptions({
    queryKey: ["views", "activity", ACTIVITY_MINUTES],
    queryFn: ({ signal }) => fetchActivity(ACTIVITY_MINUTES, { signal }),
    refetchInterval: 30_000,
    staleTime: 30_000,
  });

export const agentsQueryOptions = () =>
  queryOptions({
    queryKey: ["views", "agents"],
    queryFn: ({ signal }) => fetchAgents(OFFLINE_AFTER_SECONDS, { signal }),
    refetchInterval: VIEW_REFRESH_MS,
    staleTime: 5_000,
  });

export const tasksQueryOptions = (filter: { project?: string; agent?: string }) =>
  queryOptions({
    queryKey: ["views", "tasks", filter.project ?? "", filter.agent ?? ""],
    queryFn: ({ signal }) => fetchTasks({ ...filter, limit: TASK_LIMIT }, { signal }),
    refetchInterval: 60_000,
    staleTime: 30_000,
  });

export const budgetQueryOptions = (hours = 24, bucketMinutes = 15) =>
  queryOptions({
    queryKey: ["views", "budget", hours, bucketMinutes],
    queryFn: ({ signal }) => fetchBudget({ hours, bucketMinutes }, { signal }),
    placeholderData: keepPreviousData,
    refetchInterval: VIEW_REFRESH_MS,
    staleTime: 5_000,
  });

export const conversationsQueryOptions = () =>
  queryOptions({
    queryKey: ["views", "conversations"],
    queryFn: ({ signal }) => fetchConversations({ signal }),
    refetchInterval: VIEW_REFRESH_MS,
    staleTime: 5_000,
  });

export const conversationQueryOptions = (a: string, b: string) =>
  queryOptions({
    queryKey: ["views", "conversation", a, b],
    queryFn: ({ signal }) => fetchConversation(a, b, { signal }),
    staleTime: Infinity,
  });
