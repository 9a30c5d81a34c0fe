"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { ApiError, signOut } from "@/lib/api-client";
import type { ConnectionState } from "@/lib/live-client";
import { sessionQueryOptions } from "@/lib/queries";
import { LiveClientProvider, useLiveState } from "./live-client-provider";
import { NoticeToasts } from "./notice-toasts";
import { useBrowserOnline } from "./use-browser-online";
import { useSignInAgainWhen } from "./use-sign-in-again";

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/feed", label: "Live feed" },
  { href: "/replay", label: "Replay" },
  { href: "/agents", label: "Agents" },
  { href: "/tasks", label: "Tasks" },
  { href: "/budget", label: "Budget" },
  { href: "/messages", label: "Messages" },
] as const;

/** Every signed-in page: the nav bar, the connection state, the session, and notices as they arrive. */
export function AppShell({ children }: { children: ReactNode }) {
  return (
    <LiveClientProvider>
      <div className="app-shell">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <TopBar />
        <NoticeToasts />
        <main id="main" className="page" tabIndex={-1}>
          {children}
        </main>
      </div>
    </LiveClientProvider>
  );
}

function TopBar() {
  const pathname = usePathname();
  const live = useLiveState();
  const online = useBrowserOnline();
  const session = useQuery(sessionQueryOptions());
  const sessionExpired = session.error instanceof ApiError && session.error.isUnauthorized;
  useSignInAgainWhen(live.unauthorized || sessionExpired);
  const signOutMutation = useMutation({
    mutationFn: () => signOut(),
    // A full page load: nothing of the signed-in page (socket, cached queries) outlives the session.
    onSuccess: () => window.location.assign("/login"),
  });
  const isCurrent = (href: string) => (href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`));

  return (
    <header className="topbar">
      <p className="brand">
        <span className="brand-mark" aria-hidden="true" />
        Switchboard
      </p>
      <nav aria-label="Main" className="main-nav">
        <ul>
          {NAV.map((item) => (
            <li key={item.href}>
              <Link href={item.href} aria-current={isCurrent(item.href) ? "page" : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <ConnectionStatus state={online ? live.connection : "offline"} detail={online ? live.closingMessage : "The browser is offline."} />
      <div className="session">
        <p className="session-role">
          {session.data ? (
            <>
              Signed in as <strong>{session.data.role}</strong>
            </>
          ) : session.isError ? (
            "Session unknown"
          ) : (
            "Checking session…"
          )}
        </p>
        <button
          type="button"
          className="button-secondary"
          onClick={() => signOutMutation.mutate()}
          disabled={signOutMutation.isPending || signOutMutation.isSuccess}
        >
          Sign out
        </button>
        {signOutMutation.isError ? (
          <p className="form-error" role="alert">
            Could not sign out: {signOutMutation.error.message}
          </p>
        ) : null}
      </div>
    </header>
  );
}

const connectionLabels: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/** The socket's state as text (colour only repeats it), announced politely when it changes. */
export function ConnectionStatus({ state, detail }: { state: ConnectionState; detail: string | null }) {
  return (
    <p role="status" aria-label="Connection status" className="connection-status" data-state={state} title={detail ?? undefined}>
      <span className="connection-dot" aria-hidden="true" />
      {connectionLabels[state]}
    </p>
  );
}
