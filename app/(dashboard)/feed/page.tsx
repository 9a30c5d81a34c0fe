import type { Metadata } from "next";
import { Suspense } from "react";
import { LoadingState } from "@/components/states";
import { FeedView } from "./_components/feed-view";

export const metadata: Metadata = { title: "Live feed" };

/** The feed reads its filter from the URL query, so it renders in the browser; the prerendered page is this shell. */
export default function FeedPage() {
  return (
    <Suspense fallback={<LoadingState>Loading the live feed…</LoadingState>}>
      <FeedView />
    </Suspense>
  );
}
