import type { Metadata } from "next";
import { Suspense } from "react";
import { LoadingState } from "@/components/states";
import { ReplayView } from "./_components/replay-view";

export const metadata: Metadata = { title: "Replay" };

export default function ReplayPage() {
  return (
    <Suspense fallback={<LoadingState>Loading replay…</LoadingState>}>
      <ReplayView />
    </Suspense>
  );
}
