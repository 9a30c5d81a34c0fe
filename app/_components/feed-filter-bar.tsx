"use client";

import { useState, type ChangeEvent, type FormEvent } from "react";
import { filterValueProblem, isFiltered, sameFeedFilter, type FeedFilter, type FeedFilterField } from "@/lib/feed-filter";

interface FeedFilterBarProps {
  /** The filter in effect (from the URL). */
  filter: FeedFilter;
  onApply(filter: FeedFilter): void;
  knownAgents: readonly string[];
  knownProjects: readonly string[];
}

type Draft = Record<FeedFilterField, string>;

const draftOf = (filter: FeedFilter): Draft => ({ agent: filter.agent ?? "", project: filter.project ?? "" });
const filterOf = (draft: Draft): FeedFilter => {
  const agent = draft.agent.trim();
  const project = draft.project.trim();
  return { ...(agent ? { agent } : {}), ...(project ? { project } : {}) };
};

/** Chromium and WebKit report a datalist pick as a replacement; Firefox sends a plain Event. */
const isSuggestionPick = (event: ChangeEvent<HTMLInputElement>) =>
  !(event.nativeEvent instanceof InputEvent) || event.nativeEvent.inputType === "insertReplacementText";

/**
 * Agent and project filters. Typing only edits a draft; the filter applies on Enter / "Apply", or at
 * once when a suggestion is picked, so the feed is not resubscribed on every keystroke.
 */
export function FeedFilterBar({ filter, onApply, knownAgents, knownProjects }: FeedFilterBarProps) {
  const [draft, setDraft] = useState(() => draftOf(filter));
  const [problems, setProblems] = useState<Partial<Record<FeedFilterField, string>>>({});
  // When the applied filter changes from outside (back/forward, "Clear"), the draft follows it.
  const [appliedFilter, setAppliedFilter] = useState(filter);
  if (!sameFeedFilter(appliedFilter, filter)) {
    setAppliedFilter(filter);
    setDraft(draftOf(filter));
    setProblems({});
  }

  const apply = (next: Draft) => {
    const found: Partial<Record<FeedFilterField, string>> = {};
    for (const field of ["agent", "project"] as const) {
      const problem = filterValueProblem(field, next[field].trim());
      if (problem) found[field] = problem;
    }
    setProblems(found);
    if (Object.keys(found).length === 0) onApply(filterOf(next));
  };

  const edit = (field: FeedFilterField, suggestions: readonly string[]) => (event: ChangeEvent<HTMLInputElement>) => {
    const next = { ...draft, [field]: event.target.value };
    setDraft(next);
    if (isSuggestionPick(event) && suggestions.includes(event.target.value)) apply(next);
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
      <FilterField
        id="filter-agent"
        label="Agent"
        placeholder="All agents"
        value={draft.agent}
        suggestions={knownAgents}
        problem={problems.agent}
        onChange={edit("agent", knownAgents)}
      />
      <FilterField
        id="filter-project"
        label="Project"
        placeholder="All projects"
        value={draft.project}
        suggestions={knownProjects}
        problem={problems.project}
        onChange={edit("project", knownProjects)}
      />
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
