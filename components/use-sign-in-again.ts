"use client";

import { useEffect } from "react";

/**
 * Sends the browser to the login page, with the way back in `next`, once `sessionEnded` turns true
 * (the session cookie expired or was revoked while the page was open). A full page load, so no
 * state of the signed-out page survives.
 */
export function useSignInAgainWhen(sessionEnded: boolean) {
  useEffect(() => {
    if (!sessionEnded) return;
    const next = `${window.location.pathname}${window.location.search}`;
    window.location.assign(`/login?next=${encodeURIComponent(next)}`);
  }, [sessionEnded]);
}
