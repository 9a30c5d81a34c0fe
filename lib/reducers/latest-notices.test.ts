import { describe, expect, it } from "vitest";
import { applyLatestNotices } from "./latest-notices";
import { testEvent } from "./test-events";

const notice = (seq: number) => testEvent("system", seq, "system.notice", { title: `N${seq}`, severity: "warning" });

describe("latest notices reducer", () => {
  it("keeps the newest notices, newest first", () => {
    const notices = applyLatestNotices([], [1, 2, 3, 4, 5, 6].map(notice));
    expect(notices.map((n) => n.title)).toEqual(["N6", "N5", "N4", "N3", "N2"]);
    expect(notices[0]).toMatchObject({ severity: "warning", body: "" });
  });

  it("is idempotent and ignores other events", () => {
    const events = [notice(1), notice(2)];
    const once = applyLatestNotices([], events);
    expect(applyLatestNotices(once, [...events, testEvent("system", 3, "system.other")])).toBe(once);
  });
});
