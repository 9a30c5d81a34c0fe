"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useEffectEvent, useState, useSyncExternalStore, type FormEvent } from "react";
import { ApiError, signIn } from "@/lib/api-client";
import { safeNextPath, tokenFromFragment } from "@/lib/sign-in-redirect";

function signInErrorMessage(error: unknown): string {
  if (error instanceof ApiError && error.isUnauthorized) return "That token is not valid.";
  if (error instanceof Error) return error.message;
  return "Sign-in failed. Try again.";
}

const noSubscription = () => () => {};

/**
 * False in the server-rendered HTML, true once React runs: the button stays disabled until then, so
 * an early click cannot submit the form natively and put the token in the address bar.
 */
const useHydrated = () =>
  useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );

export function SignInForm() {
  const router = useRouter();
  const hydrated = useHydrated();
  const [token, setToken] = useState("");

  const session = useMutation({
    mutationFn: (candidate: string) => signIn(candidate),
    onSuccess: () => {
      // Read at sign-in time rather than through useSearchParams, so the page needs no Suspense boundary.
      const next = new URLSearchParams(window.location.search).get("next");
      router.replace(safeNextPath(next, window.location.origin));
    },
  });

  const signInWithLinkToken = useEffectEvent((linkToken: string) => session.mutate(linkToken));
  useEffect(() => {
    // The server's first-start link carries the admin token in the fragment (never sent to servers).
    const linkToken = tokenFromFragment(window.location.hash);
    if (!linkToken) return;
    // Take it out of the address bar and the history entry before anything else happens.
    window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}`);
    signInWithLinkToken(linkToken);
  }, []);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const candidate = token.trim();
    if (candidate) session.mutate(candidate);
  };

  const busy = session.isPending || session.isSuccess;
  const error = session.isError ? signInErrorMessage(session.error) : null;

  return (
    <form className="login-form" method="post" onSubmit={submit} aria-busy={busy}>
      <label htmlFor="api-token">API token</label>
      <input
        id="api-token"
        name="token"
        type="password"
        autoComplete="current-password"
        spellCheck={false}
        required
        value={token}
        onChange={(e) => setToken(e.target.value)}
        aria-invalid={error !== null}
        aria-describedby={error ? "api-token-error" : undefined}
      />
      <button type="submit" className="button-primary" disabled={!hydrated || busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p id="api-token-error" className="form-error" role="alert">
        {error}
      </p>
    </form>
  );
}
