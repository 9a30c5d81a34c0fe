import type { Metadata } from "next";
import { Suspense } from "react";
import { LiveDashboard } from "./_components/live-dashboard";

export const metadata: Metadata = { title: "Live feed" };

/**
 * The dashboard reads its filter from the URL query, so it renders in the browser; the prerendered
 * page is only this shell. (The server sends visitors without a session to /login before this.)
 */
export default function HomePage() {
  return (
    <Suspense fallback={<p className="page-loading">Loading the live feed…</p>}>
      <LiveDashboard />
    </Suspense>
  );
}
