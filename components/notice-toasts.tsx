"use client";

import { useState } from "react";
import { noticeOf, type Notice } from "@/lib/notices";
import { useLiveSubscriptions } from "./live-client-provider";

const MAX_SHOWN = 4;
const NOTICE_SUBSCRIPTION = [{ channel: "system", filter: { type: "system.notice" }, start: { history: 0 } }] as const;

/**
 * Notices published while the page is open, on every page, newest first, until dismissed. Text only:
 * a notice's title and body are rendered as text, never as markup.
 */
export function NoticeToasts() {
  const [notices, setNotices] = useState<Notice[]>([]);
  useLiveSubscriptions(NOTICE_SUBSCRIPTION, (events) => {
    setNotices((current) => {
      const seen = new Set(current.map((n) => n.id));
      const fresh = events.filter((e) => !seen.has(e.id)).map(noticeOf);
      return fresh.length ? [...fresh.reverse(), ...current].slice(0, MAX_SHOWN) : current;
    });
  });
  const dismiss = (id: string) => setNotices((current) => current.filter((n) => n.id !== id));

  return (
    <section className="toasts" aria-label="Notices">
      {notices.map((notice) => (
        <div key={notice.id} className="toast" data-severity={notice.severity} role={notice.severity === "info" ? "status" : "alert"} aria-label={`Notice: ${notice.title}`}>
          <div className="toast-text">
            <p className="toast-title">
              <span className="severity-chip" data-severity={notice.severity}>
                {notice.severity}
              </span>
              {notice.title}
            </p>
            {notice.body ? <p className="toast-body">{notice.body}</p> : null}
          </div>
          <button type="button" className="button-ghost" onClick={() => dismiss(notice.id)} aria-label={`Dismiss notice ${notice.title}`}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
      ))}
    </section>
  );
}
