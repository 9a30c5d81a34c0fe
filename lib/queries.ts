/** One `queryOptions` factory per query, shared by every component (and any future server prefetch). */
import { queryOptions } from "@tanstack/react-query";
import { getSession, listChannels } from "./api-client";

/** How often the channel counters refresh; live events bump them in between. */
export const CHANNELS_REFRESH_MS = 5_000;

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
