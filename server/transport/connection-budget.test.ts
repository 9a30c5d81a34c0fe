import { describe, expect, it } from "vitest";
import { ConnectionBudget, type BudgetedConnection, type Release } from "./connection-budget";

class FakeConnection implements BudgetedConnection {
  unsent = 0;
  paused = false;
  overflowed: number | null = null;
  unsentBytes() {
    return this.unsent;
  }
  pauseReading() {
    this.paused = true;
  }
  resumeReading() {
    this.paused = false;
  }
  overflow(unsent: number) {
    this.overflowed = unsent;
  }
}

const setup = (maxQueued = 2) => {
  const conn = new FakeConnection();
  const budget = new ConnectionBudget({ softBytes: 100, hardBytes: 200, maxQueued }, conn);
  const started: string[] = [];
  const releases = new Map<string, Release>();
  const request = (name: string, bytes: number) =>
    budget.admit(bytes, (release) => {
      started.push(name);
      releases.set(name, release);
    });
  return { conn, budget, started, releases, request };
};

describe("ConnectionBudget", () => {
  it("runs requests under the soft limit, reserving their answers; past it, stops reading and queues", () => {
    const { conn, budget, started, request } = setup();
    expect(request("a", 30)).toBe(true);
    expect(request("b", 30)).toBe(true);
    expect(conn.paused).toBe(false);
    expect(started).toEqual(["a", "b"]);
    expect(budget.room()).toBe(40);
    // 60 does not fit in the 40 left: it waits, and the connection is not read meanwhile.
    expect(request("c", 60)).toBe(true);
    expect(conn.paused).toBe(true);
    expect(request("d", 10)).toBe(true); // behind c, though it would fit
    expect(request("e", 10)).toBe(false); // the queue holds two
    expect(started).toEqual(["a", "b"]);
    expect(budget.queued).toBe(2);
  });

  it("a request larger than the soft limit runs alone; nothing else is reserved", () => {
    const { conn, budget, started, releases, request } = setup();
    request("big", 150);
    expect(started).toEqual(["big"]);
    expect(conn.paused).toBe(true);
    request("small", 10);
    expect(started).toEqual(["big"]);
    releases.get("big")!();
    expect(started).toEqual(["big", "small"]);
    expect(conn.paused).toBe(false);
    expect(budget.reservedBytes).toBe(10);
  });

  it("answers written and drained start the waiting requests in order, then reading resumes", () => {
    const { conn, budget, started, releases, request } = setup();
    request("a", 60);
    request("b", 30);
    request("c", 10);
    expect(started).toEqual(["a", "b"]);
    expect(conn.paused).toBe(true);
    // a's answer is written (80 unsent) and its reservation released: c still does not fit.
    conn.unsent = 80;
    releases.get("a")!();
    expect(started).toEqual(["a", "b"]);
    expect(conn.paused).toBe(true);
    // The client read it.
    conn.unsent = 0;
    budget.check();
    expect(started).toEqual(["a", "b", "c"]);
    expect(conn.paused).toBe(false);
    expect(budget.reservedBytes).toBe(40);
    releases.get("b")!();
    releases.get("b")!(); // twice: released once
    releases.get("c")!();
    expect(budget.reservedBytes).toBe(0);
    expect(budget.room()).toBe(100);
  });

  it("closes past the hard limit and runs nothing more", () => {
    const { conn, budget, started, releases, request } = setup();
    request("a", 60);
    request("b", 30);
    request("c", 10);
    expect(budget.wouldOverflow(150)).toBe(false);
    expect(budget.wouldOverflow(201)).toBe(true);
    conn.unsent = 250;
    releases.get("a")!();
    expect(conn.overflowed).toBe(250);
    conn.unsent = 0;
    budget.check();
    expect(started).toEqual(["a", "b"]);
    expect(budget.queued).toBe(0);
  });

  it("never holds more than soft + one reservation when every answer stays within its reservation and nothing is read", () => {
    const { conn, budget, releases, request } = setup(1000);
    let peak = 0;
    for (let i = 0; i < 500; i++) {
      request(`r${i}`, 40);
      // Answer whatever runs: its bytes join the unsent ones, nobody reads.
      for (const [name, release] of [...releases]) {
        releases.delete(name);
        conn.unsent += 40;
        release();
      }
      peak = Math.max(peak, conn.unsent + budget.reservedBytes);
    }
    expect(peak).toBeLessThan(100 + 40);
    expect(conn.overflowed).toBeNull();
    expect(conn.paused).toBe(true);
  });
});
