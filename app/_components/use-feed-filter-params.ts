"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { readFeedFilter, withFeedFilter, type FeedFilter } from "@/lib/feed-filter";

/**
 * The feed filter lives in the URL query (`?agent=&project=`), so reload, back/forward and shared
 * links keep it. Applying one pushes a history entry with the native History API, which Next.js's
 * router picks up without a server round trip.
 */
export function useFeedFilterParams() {
  const searchParams = useSearchParams();
  const pathname = usePathname();
  const agentParam = searchParams.get("agent");
  const projectParam = searchParams.get("project");

  const { filter, problems } = useMemo(
    () => readFeedFilter(new URLSearchParams({ agent: agentParam ?? "", project: projectParam ?? "" })),
    [agentParam, projectParam],
  );

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
