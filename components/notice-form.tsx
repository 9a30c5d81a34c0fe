"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { publishEvent } from "@/lib/api-client";
import { NOTICE_SEVERITIES, type NoticeSeverity } from "@/lib/notices";

/** Admins only (the caller checks the role; the server refuses anyone else): publishes a system notice. */
export function NoticeForm() {
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [severity, setSeverity] = useState<NoticeSeverity>("info");
  const publish = useMutation({
    mutationFn: () => publishEvent("system", { type: "system.notice", payload: { title: title.trim(), body: body.trim(), severity } }),
    onSuccess: () => {
      setTitle("");
      setBody("");
      setSeverity("info");
    },
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (title.trim()) publish.mutate();
  };

  return (
    <form className="notice-form" aria-label="Publish a notice" onSubmit={submit}>
      <div className="form-row">
        <label htmlFor="notice-title">Title</label>
        <input id="notice-title" type="text" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="form-row">
        <label htmlFor="notice-body">Message</label>
        <textarea id="notice-body" rows={2} maxLength={2000} value={body} onChange={(e) => setBody(e.target.value)} />
      </div>
      <div className="form-row form-row-inline">
        <label htmlFor="notice-severity">Severity</label>
        <select id="notice-severity" value={severity} onChange={(e) => setSeverity(e.target.value as NoticeSeverity)}>
          {NOTICE_SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <button type="submit" className="button-primary" disabled={publish.isPending || !title.trim()}>
          {publish.isPending ? "Publishing…" : "Publish notice"}
        </button>
      </div>
      <p className={publish.isError ? "form-error" : "muted"} role={publish.isError ? "alert" : "status"}>
        {publish.isError ? `Could not publish: ${publish.error.message}` : publish.isSuccess ? "Notice published." : ""}
      </p>
    </form>
  );
}
