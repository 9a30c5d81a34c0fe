import type { Metadata } from "next";
import { Suspense } from "react";
import { LoadingState } from "@/components/states";
import { TaskBoard } from "./_components/task-board";

export const metadata: Metadata = { title: "Tasks" };

export default function TasksPage() {
  return (
    <Suspense fallback={<LoadingState>Loading the task board…</LoadingState>}>
      <TaskBoard />
    </Suspense>
  );
}
