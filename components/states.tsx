import type { ReactNode } from "react";

/** Loading, empty and error states, sized like the content they stand in for. */
export function LoadingState({ children = "Loading…" }: { children?: ReactNode }) {
  return (
    <p className="state state-loading" role="status">
      {children}
    </p>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

export function ErrorState({ error, what }: { error: Error; what: string }) {
  return (
    <p className="state state-error form-error" role="alert">
      Could not load {what}: {error.message}
    </p>
  );
}

/** "—" with "none" for screen readers. */
export function NoValue() {
  return (
    <span className="muted">
      <span aria-hidden="true">—</span>
      <span className="visually-hidden">none</span>
    </span>
  );
}
