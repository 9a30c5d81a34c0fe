"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { ApiError } from "@/lib/api-client";

/** Retrying cannot fix a refused request (4xx, e.g. an expired session); it can fix a flaky network or a 5xx. */
const shouldRetry = (failureCount: number, error: unknown) =>
  failureCount < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500);

/** One QueryClient per browser tab, created on first render so it is never shared between requests. */
export function QueryProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: shouldRetry } } }));
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
