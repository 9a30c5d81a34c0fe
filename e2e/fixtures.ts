import { randomUUID } from "node:crypto";
import { test as base, expect } from "@playwright/test";
import type { ChannelName, PublishInput, SwitchboardEvent } from "../lib/protocol";

/** The port the e2e server listens on (see playwright.config.ts). */
export const E2E_PORT = 3100;
/** The bootstrap admin token the e2e server starts with. */
export const ADMIN_TOKEN = "e2e-admin-token-not-a-secret";

/** A title no other test run has used, so a spec finds exactly the rows it published. */
export const uniqueTitle = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;

interface Fixtures {
  /** Publishes one event over the HTTP API with the admin token, as a producer would. */
  publishEvent: (channel: ChannelName, input: PublishInput) => Promise<SwitchboardEvent>;
}

export const test = base.extend<Fixtures>({
  // The second argument is Playwright's `use`, renamed so react-hooks lint does not take it for React's.
  publishEvent: async ({ request }, provide) => {
    await provide(async (channel, input) => {
      const response = await request.post(`/api/v1/channels/${channel}/events`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        data: input,
      });
      expect(response.status(), await response.text()).toBe(201);
      const { events } = (await response.json()) as { events: SwitchboardEvent[] };
      const [event] = events;
      if (!event) throw new Error("publish answered 201 without an event");
      return event;
    });
  },
});

export { expect };
