"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { signOut } from "@/lib/api-client";
import type { ConnectionState } from "@/lib/live-feed";
import { sessionQueryOptions } from "@/lib/queries";
import { ConnectionStatus } from "./connection-status";

interface DashboardHeaderProps {
  connection: ConnectionState;
  connectionDetail: string | null;
}

export function DashboardHeader({ connection, connectionDetail }: DashboardHeaderProps) {
  const session = useQuery(sessionQueryOptions());
  const signOutMutation = useMutation({
    mutationFn: () => signOut(),
    // A full page load: nothing of the signed-in page (socket, cached queries) outlives the session.
    onSuccess: () => window.location.assign("/login"),
  });

  return (
    <header className="topbar">
      <p className="brand">
        <span className="brand-mark" aria-hidden="true" />
        Switchboard
      </p>
      <ConnectionStatus state={connection} detail={connectionDetail} />
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
