"use client";

import { useSyncExternalStore } from "react";

/** One shared ticker per interval, so a page full of relative times re-renders once per tick. */
const tickers = new Map<number, { now: number; listeners: Set<() => void>; timer: ReturnType<typeof setInterval> | null }>();

function tickerFor(intervalMs: number) {
  let ticker = tickers.get(intervalMs);
  if (!ticker) {
    ticker = { now: Date.now(), listeners: new Set(), timer: null };
    tickers.set(intervalMs, ticker);
  }
  return ticker;
}

/** The current time in ms, updated every `intervalMs` while any component uses it. */
export function useNow(intervalMs = 5_000): number {
  const ticker = tickerFor(intervalMs);
  return useSyncExternalStore(
    (onChange) => {
      ticker.listeners.add(onChange);
      ticker.timer ??= setInterval(() => {
        ticker.now = Date.now();
        for (const listener of ticker.listeners) listener();
      }, intervalMs);
      return () => {
        ticker.listeners.delete(onChange);
        if (ticker.listeners.size === 0 && ticker.timer) {
          clearInterval(ticker.timer);
          ticker.timer = null;
        }
      };
    },
    () => ticker.now,
    () => 0,
  );
}
