"use client";

import { useState, type ChangeEvent, type FormEvent } from "react";
import { feedChannels, filterValueProblem, isFiltered, sameFeedFilter, type FeedFilter, type FeedFilterField } from "@/lib/feed-filter";
import { CHANNEL_NAMES, type ChannelName } from "@/lib/protocol";

interface FeedFilterBarProps {
  /** The filter in effect (from the URL). */
  filter: FeedFilter;
  onApply(filter: FeedFilter): void;
  knownAgents: readonly string[];
  knownProjects: readonly string[];
  /** Offer the channel checkboxes (the agent timeline shows every channel). @default true */
  showChannels?: boolean;
}

type Draft = Record<FeedFilterField, string> & { channels: readonly ChannelName[] };

const TYPE_SUGGESTIONS = [
  "task.*",
  "agent.*",
  "budget.*",
  "message.*",
  "system.*",
  "task.created",
  "task.assigned",
  "task.status_changed",
  "task.completed",
  "task.failed",
  "agent.hired",
  "agent.heartbeat",
  "budget.spent",
  "budget.warning",
  "message.sent",
  "system.notice",
  "system.error",
];

const draftOf = (filter: FeedFilter): Draft => ({
  agent: filter.agent ?? "",
  project: filter.project ?? "",
  type: filter.type ?? "",
  channels: feedChannels(filter),
});
const filterOf = (draft: Draft): FeedFilter => {
  const filter: FeedFilter = {};
  for (const field of ["agent", "project", "type"] as const) {
    const value = draft[field]
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean)
      .join(",");
    if (value) filter[field] = value;
  }
  if (draft.channels.length > 0 && draft.channels.length < CHANNEL_NAMES.length) filter.channels = draft.channels;
  return filter;
};

/** Chromium and WebKit report a datalist pick as a replacement; Firefox sends a plain Event. */
const isSuggestionPick = (event: ChangeEvent<HTMLInputElement>) =>
  !(event.nativeEvent instanceof InputEvent) || event.nativeEvent.inputType === "insertReplacementText";

/**
 * Channel, agent, project and event-type filters. Channel boxes apply at once; typing only edits a
 * draft that applies on Enter / "Apply", or at once when a suggestion is picked, so the feed is not
 * resubscribed on every keystroke.
 */
export function FeedFilterBar({ filter, onApply, knownAgents, knownProjects, showChannels = true }: FeedFilterBarProps) {
  const [draft, setDraft] = useState(() => draftOf(filter));
  const [problems, setProblems] = useState<Partial<Record<FeedFilterField | "channels", string>>>({});
  // When the applied filter changes from outside (back/forward, "Clear"), the draft follows it.
  const [appliedFilter, setAppliedFilter] = useState(filter);
  if (!sameFeedFilter(appliedFilter, filter)) {
    setAppliedFilter(filter);
    setDraft(draftOf(filter));
    setProblems({});
  }

  const apply = (next: Draft) => {
    const found: Partial<Record<FeedFilterField | "channels", string>> = {};
    for (const field of ["agent", "project", "type"] as const) {
      const problem = filterValueProblem(field, next[field]);
      if (problem) found[field] = problem;
    }
    if (next.channels.length === 0) found.channels = "Pick at least one channel.";
    setProblems(found);
    if (Object.keys(found).length === 0) onApply(filterOf(next));
  };

  const edit = (field: FeedFilterField, suggestions: readonly string[]) => (event: ChangeEvent<HTMLInputElement>) => {
    const next = { ...draft, [field]: event.target.value };
    setDraft(next);
    if (isSuggestionPick(event) && suggestions.includes(event.target.value)) apply(next);
  };

  const toggleChannel = (channel: ChannelName) => (event: ChangeEvent<HTMLInputElement>) => {
    const set = new Set(draft.channels);
    if (event.target.checked) set.add(channel);
    else set.delete(channel);
    const next = { ...draft, channels: CHANNEL_NAMES.filter((c) => set.has(c)) };
    setDraft(next);
    apply(next);
  };

  const clear = () => {
    const empty = draftOf({});
    setDraft(empty);
    apply(empty);
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    apply(draft);
  };

  const pending = !sameFeedFilter(filterOf(draft), filter);

  return (
    <form role="search" aria-label="Filter events" className="filter-bar" onSubmit={submit}>
      {showChannels ? (
        <fieldset className="channel-picker" aria-describedby={problems.channels ? "filter-channels-problem" : undefined}>
          <legend>Channels</legend>
          {CHANNEL_NAMES.map((channel) => (
            <label key={channel} className="channel-toggle" data-channel={channel}>
              <input type="checkbox" checked={draft.channels.includes(channel)} onChange={toggleChannel(channel)} />
              {channel}
            </label>
          ))}
          {problems.channels ? (
            <p id="filter-channels-problem" className="form-error field-problem" role="alert">
              {problems.channels}
            </p>
          ) : null}
        </fieldset>
      ) : null}
      <FilterField id="filter-agent" label="Agent" placeholder="All agents" value={draft.agent} suggestions={knownAgents} problem={problems.agent} onChange={edit("agent", knownAgents)} />
      <FilterField
        id="filter-project"
        label="Project"
        placeholder="All projects"
        value={draft.project}
        suggestions={knownProjects}
        problem={problems.project}
        onChange={edit("project", knownProjects)}
      />
      <FilterField id="filter-type" label="Event type" placeholder="All types, or task.*" value={draft.type} suggestions={TYPE_SUGGESTIONS} problem={problems.type} onChange={edit("type", TYPE_SUGGESTIONS)} />
      <div className="filter-actions">
        <button type="submit" className="button-primary" disabled={!pending}>
          Apply
        </button>
        <button type="button" className="button-secondary" disabled={!isFiltered(filter) && !pending} onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}

interface FilterFieldProps {
  id: string;
  label: string;
  placeholder: string;
  value: string;
  suggestions: readonly string[];
  problem: string | undefined;
  onChange(event: ChangeEvent<HTMLInputElement>): void;
}

function FilterField({ id, label, placeholder, value, suggestions, problem, onChange }: FilterFieldProps) {
  const listId = `${id}-suggestions`;
  const problemId = `${id}-problem`;
  return (
    <div className="filter-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        list={listId}
        value={value}
        placeholder={placeholder}
        autoComplete="off"
        spellCheck={false}
        onChange={onChange}
        aria-invalid={problem !== undefined}
        aria-describedby={problem ? problemId : undefined}
      />
      <datalist id={listId}>
        {suggestions.map((suggestion) => (
          <option key={suggestion} value={suggestion} />
        ))}
      </datalist>
      {problem ? (
        <p id={problemId} className="form-error field-problem" role="alert">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
