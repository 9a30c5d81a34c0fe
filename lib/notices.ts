/** Notices: `system.notice` events as the dashboard shows them. */
import type { SwitchboardEvent } from "./protocol";

export type NoticeSeverity = "info" | "warning" | "critical";
export const NOTICE_SEVERITIES: NoticeSeverity[] = ["info", "warning", "critical"];

export interface Notice {
  id: string;
  title: string;
  body: string;
  severity: NoticeSeverity;
  ts: string;
}

/** A notice from a `system.notice` event; fields that are missing or not text become defaults. */
export function noticeOf(event: SwitchboardEvent): Notice {
  const { title, body, severity } = event.payload;
  return {
    id: event.id,
    title: typeof title === "string" && title ? title : "Notice",
    body: typeof body === "string" ? body : "",
    severity: NOTICE_SEVERITIES.includes(severity as NoticeSeverity) ? (severity as NoticeSeverity) : "info",
    ts: event.ts,
  };
}
