"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { readFeedFilter, withFeedFilter, type FeedFilter } from "@/lib/feed-filter";

/**
 * The feed filter lives in the URL query (`?channels=&agent=&project=&type=`), so reload,
 * back/forward and shared links keep it. Applying one pushes a history entry with the native History
 * API, which Next.js's router picks up without a server round trip.
 */
export function useFeedFilterParams() {
  const searchParams = useSearchParams();
  const pathname = usePathname();
  const raw = ["channels", "agent", "project", "type"].map((k) => searchParams.get(k) ?? "").join("\u0000");

  const { filter, problems } = useMemo(() => {
    const [channels, agent, project, type] = raw.split("\u0000");
    return readFeedFilter(new URLSearchParams({ channels: channels ?? "", agent: agent ?? "", project: project ?? "", type: type ?? "" }));
  }, [raw]);

  const applyFilter = useCallback(
    (next: FeedFilter) => {
      const query = withFeedFilter(window.location.search, next);
      if (query === window.location.search) return;
      window.history.pushState(null, "", `${pathname}${query}`);
    },
    [pathname],
  );

  return { filter, problems, applyFilter };
}
