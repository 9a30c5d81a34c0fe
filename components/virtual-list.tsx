"use client";

import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode, type RefObject } from "react";

export interface VirtualWindow {
  /** First and one-past-last index to render. */
  start: number;
  end: number;
  /** Rows that fit in the viewport. */
  pageSize: number;
  /** The most rows the window can hold: rows `i % slots` of any window are distinct. */
  slots: number;
}

interface UseVirtualWindowOptions {
  scrollRef: RefObject<HTMLElement | null>;
  count: number;
  rowHeight: number;
  /** Height above the rows inside the scroller (a sticky header). */
  offsetTop?: number;
  /** Rows rendered beyond each edge, so fast scrolling shows no blank rows. */
  overscan?: number;
}

/**
 * Fixed-height windowing: only the rows in (or near) the viewport are rendered, whatever the list
 * length, so render cost and DOM size stay flat. Scroll and resize update the window.
 */
export function useVirtualWindow({ scrollRef, count, rowHeight, offsetTop = 0, overscan = 6 }: UseVirtualWindowOptions): VirtualWindow {
  const [viewport, setViewport] = useState({ scrollTop: 0, height: 0 });

  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setViewport((v) => (v.scrollTop === el.scrollTop && v.height === el.clientHeight ? v : { scrollTop: el.scrollTop, height: el.clientHeight }));
    };
    const onScroll = () => {
      frame ||= requestAnimationFrame(measure);
    };
    measure();
    el.addEventListener("scroll", onScroll, { passive: true });
    const observer = new ResizeObserver(onScroll);
    observer.observe(el);
    return () => {
      if (frame) cancelAnimationFrame(frame);
      el.removeEventListener("scroll", onScroll);
      observer.disconnect();
    };
  }, [scrollRef]);

  const pageSize = Math.max(1, Math.floor((viewport.height - offsetTop) / rowHeight));
  const first = Math.floor(Math.max(0, viewport.scrollTop - offsetTop) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + pageSize + 1 + overscan);
  return { start, end, pageSize, slots: pageSize + 1 + 2 * overscan };
}

/**
 * Keeps the rows on screen where they are when rows are inserted above them (a newest-first feed):
 * remembers the first visible row's key and, after each change of `items`, scrolls by the rows added
 * above it. At the very top the list follows the newest rows instead. `keyOf` must be stable (a
 * module-level function), so that scrolling does not re-attach the listener.
 */
export function useScrollAnchor<T>(scrollRef: RefObject<HTMLElement | null>, items: readonly T[], keyOf: (item: T) => string, rowHeight: number, offsetTop = 0) {
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const latest = useRef(items);

  useLayoutEffect(() => {
    latest.current = items;
    const el = scrollRef.current;
    const previous = anchor.current;
    if (el && previous && el.scrollTop > 0) {
      // Newest-first lists grow at the top: the anchor is usually near the start.
      const index = items.findIndex((item) => keyOf(item) === previous.key);
      if (index >= 0) el.scrollTop = offsetTop + index * rowHeight + previous.offset;
    }
  }, [items, keyOf, rowHeight, offsetTop, scrollRef]);

  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const remember = () => {
      const y = Math.max(0, el.scrollTop - offsetTop);
      const index = Math.floor(y / rowHeight);
      const item = latest.current[index];
      anchor.current = el.scrollTop > 0 && item !== undefined ? { key: keyOf(item), offset: y - index * rowHeight } : null;
    };
    el.addEventListener("scroll", remember, { passive: true });
    return () => el.removeEventListener("scroll", remember);
  }, [keyOf, rowHeight, offsetTop, scrollRef]);
}

/** The style of row `index` inside a container as tall as every row together. */
export const rowStyle = (index: number, rowHeight: number): CSSProperties => ({
  position: "absolute",
  top: 0,
  left: 0,
  right: 0,
  height: rowHeight,
  transform: `translateY(${index * rowHeight}px)`,
});

/** The spacer that gives the scroller the full list's height. */
export function VirtualRows({ count, rowHeight, children, role = "rowgroup" }: { count: number; rowHeight: number; children: ReactNode; role?: string }) {
  return (
    <div role={role} className="virtual-rows" style={{ position: "relative", height: count * rowHeight }}>
      {children}
    </div>
  );
}
