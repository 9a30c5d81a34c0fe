"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useLayoutEffect, useMemo, useRef, useState } from "react";
import { EmptyState, ErrorState, LoadingState } from "@/components/states";
import { useLiveQuery } from "@/components/use-live-query";
import { useNow } from "@/components/use-now";
import type { SwitchboardEvent } from "@/lib/protocol";
import { conversationQueryOptions, conversationsQueryOptions } from "@/lib/queries";
import { applyConversationEvents } from "@/lib/reducers/conversation";
import { refetchOnly } from "@/lib/reducers/live-reducer";
import { formatAbsolute, formatCount, formatRelative } from "@/lib/time-format";

/** New messages refresh the conversation list at most this often (its counts are the server's). */
const LIST_REFRESH_MS = 3_000;
const MESSAGES = [{ channel: "messages", filter: { type: "message.sent" } }];

/** Agent-to-agent conversations, threaded by pair, live. */
export function MessagesView() {
  const params = useSearchParams();
  const a = params.get("a");
  const b = params.get("b");
  const pair = a && b ? ((a < b ? [a, b] : [b, a]) as [string, string]) : null;
  const conversations = useLiveQuery({ query: conversationsQueryOptions(), channels: MESSAGES, reduce: refetchOnly, refetchOnEventsMs: LIST_REFRESH_MS });
  const pairKey = pair ? pair.join("\u0000") : "";

  return (
    <div className="view view-fill">
      <h1 className="view-title">Messages</h1>
      {conversations.isError ? <ErrorState error={conversations.error} what="conversations" /> : null}
      <div className="messages-layout">
        <nav className="card table-scroller" aria-label="Conversations">
          {conversations.isPending ? <LoadingState>Loading conversations…</LoadingState> : null}
          {conversations.data?.length === 0 ? <EmptyState>No agent has messaged another yet.</EmptyState> : null}
          <ul className="conversation-list">
            {conversations.data?.map((c) => {
              const current = pair !== null && c.agents[0] === pair[0] && c.agents[1] === pair[1];
              return (
                <li key={c.agents.join("/")}>
                  <Link href={`/messages?a=${encodeURIComponent(c.agents[0])}&b=${encodeURIComponent(c.agents[1])}`} aria-current={current ? "true" : undefined}>
                    <strong>
                      {c.agents[0]} ↔ {c.agents[1]}
                    </strong>{" "}
                    <span className="muted small">({formatCount(c.count)})</span>
                    <span className="muted small cell-ellipsis" style={{ display: "block" }}>
                      {c.last.from}: {c.last.text}
                    </span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <section className="card thread" aria-label={pair ? `Conversation between ${pair[0]} and ${pair[1]}` : "Conversation"}>
          {pair ? <Thread key={pairKey} pair={pair} /> : <EmptyState>Pick a conversation.</EmptyState>}
        </section>
      </div>
    </div>
  );
}

/** How close to the bottom (px) still counts as "at the bottom": rounding and a last line half in view. */
const AT_BOTTOM_SLACK = 32;

/**
 * One conversation, oldest first. It opens at the newest message and, while the reader is at the
 * bottom, follows new messages as they arrive; scrolled up to read, it stays put and a button says how
 * many new messages are below.
 */
function Thread({ pair }: { pair: [string, string] }) {
  const thread = useLiveQuery({
    query: conversationQueryOptions(pair[0], pair[1]),
    channels: MESSAGES,
    reduce: (messages: SwitchboardEvent[], events) => applyConversationEvents(messages, events, pair),
  });
  const now = useNow(5_000);
  const data = thread.data;
  const messages = useMemo(() => [...(data ?? [])].sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : x.seq - y.seq)), [data]);
  const { scrollRef, atBottom, unseen, onScroll, scrollToBottom } = useFollowNewest(messages.length, thread.isSuccess);

  if (thread.isError) return <ErrorState error={thread.error} what="the conversation" />;
  if (thread.isPending) return <LoadingState>Loading the conversation…</LoadingState>;
  return (
    <>
      <h2 className="subheading">
        {pair[0]} ↔ {pair[1]}
      </h2>
      <div ref={scrollRef} className="thread-scroller" onScroll={onScroll}>
        {messages.length === 0 ? <EmptyState>No messages yet.</EmptyState> : null}
        <ol className="thread-messages" aria-label="Messages">
          {messages.map((m) => {
            const from = typeof m.payload.from === "string" ? m.payload.from : (m.agent ?? "?");
            return (
              <li key={m.id} className="bubble" data-side={from === pair[0] ? "left" : "right"}>
                <p className="bubble-meta">
                  <strong>{from}</strong> ·{" "}
                  <time dateTime={m.ts} title={formatAbsolute(m.ts)}>
                    {now ? formatRelative(m.ts, now) : ""}
                  </time>
                </p>
                <p>{typeof m.payload.text === "string" ? m.payload.text : JSON.stringify(m.payload)}</p>
              </li>
            );
          })}
        </ol>
        {!atBottom && unseen > 0 ? (
          <button type="button" className="button-primary new-messages" onClick={scrollToBottom}>
            {unseen === 1 ? "1 new message" : `${formatCount(unseen)} new messages`} ↓
          </button>
        ) : null}
      </div>
    </>
  );
}

/**
 * Keeps a list that grows at the bottom scrolled to its end while the reader is there (and from the
 * start), and counts the items added since the reader left the bottom. `shown`: the list is on screen
 * (it first scrolls to the end when it appears).
 */
function useFollowNewest(count: number, shown: boolean) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // A ref for the layout effect (it must not wait for a render), state for the button.
  const following = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  // Items the reader has seen: all of them while at the bottom, those present when they scrolled away.
  const [seen, setSeen] = useState(0);
  const countRef = useRef(count);

  useLayoutEffect(() => {
    countRef.current = count;
    const el = scrollRef.current;
    // Before paint, so a new message never shows up below the fold first.
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [count, shown]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= AT_BOTTOM_SLACK;
    if (bottom || following.current) setSeen(countRef.current);
    following.current = bottom;
    setAtBottom(bottom);
  };

  const scrollToBottom = () => {
    const el = scrollRef.current;
    if (!el) return;
    following.current = true;
    setAtBottom(true);
    setSeen(countRef.current);
    el.scrollTop = el.scrollHeight;
  };

  return { scrollRef, atBottom, unseen: Math.max(0, count - seen), onScroll, scrollToBottom };
}
