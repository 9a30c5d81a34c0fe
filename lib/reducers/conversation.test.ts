import { describe, expect, it } from "vitest";
import { applyConversationEvents, conversationPair, MAX_THREAD_MESSAGES } from "./conversation";
import { testEvent } from "./test-events";

const message = (seq: number, from: string, to: string) => testEvent("messages", seq, "message.sent", { from, to, text: `#${seq}` }, { agent: from });
const pair = ["ada", "bob"] as const;

describe("conversation reducer", () => {
  it("names a message's pair in alphabetical order", () => {
    expect(conversationPair(message(1, "bob", "ada"))).toEqual(["ada", "bob"]);
    expect(conversationPair(testEvent("messages", 1, "message.sent", { from: "a" }))).toBeNull();
  });

  it("changes nothing for a message at or below the thread's newest seq, or of another pair", () => {
    const thread = [message(3, "ada", "bob"), message(7, "bob", "ada")];
    expect(applyConversationEvents(thread, [message(7, "bob", "ada"), message(5, "ada", "bob"), message(9, "ada", "cyd")], pair)).toBe(thread);
  });

  it("appends the pair's messages in order, and applying them again changes nothing", () => {
    const events = [message(8, "ada", "bob"), message(9, "ada", "cyd"), message(10, "bob", "ada")];
    const once = applyConversationEvents([message(7, "bob", "ada")], events, pair);
    expect(once.map((m) => m.seq)).toEqual([7, 8, 10]);
    expect(applyConversationEvents(once, events, pair)).toBe(once);
  });

  it("keeps the newest MAX_THREAD_MESSAGES", () => {
    const events = Array.from({ length: MAX_THREAD_MESSAGES + 1 }, (_, i) => message(i + 1, "ada", "bob"));
    const thread = applyConversationEvents([], events, pair);
    expect(thread).toHaveLength(MAX_THREAD_MESSAGES);
    expect(thread[0]!.seq).toBe(2);
  });
});
