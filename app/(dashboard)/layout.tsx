import type { ReactNode } from "react";
import { AppShell } from "@/components/app-shell";

/** Every page but /login: the server sends visitors without a session to /login before this renders. */
export default function DashboardLayout({ children }: { children: ReactNode }) {
  return <AppShell>{children}</AppShell>;
}
