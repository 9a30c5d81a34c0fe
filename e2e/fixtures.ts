import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { test as base, expect, type Page } from "@playwright/test";
import type { ChannelName, PublishInput, SwitchboardEvent } from "../lib/protocol";

/** The port of the e2e server on the embedded PostgreSQL (see playwright.config.ts). */
export const E2E_PORT = 3100;
/** The port of the e2e server on the machine's PostgreSQL and Redis. */
export const E2E_POSTGRES_PORT = 3101;
/** The bootstrap admin token the e2e servers start with. */
export const ADMIN_TOKEN = "e2e-admin-token-not-a-secret";

/** A title no other test run has used, so a spec finds exactly the rows it published. */
export const uniqueTitle = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;
/** An agent or project name of the test's own, so tests do not see each other's data. */
export const uniqueName = (label: string) => `e2e-${label}-${randomUUID().slice(0, 8)}`;

export interface ServerEnvOptions {
  /** The environment the project's server runs with (for the token CLI). */
  serverEnv: Record<string, string>;
}

interface Fixtures {
  /** Publishes one event over the HTTP API with the admin token, as a producer would. */
  publishEvent: (channel: ChannelName, input: PublishInput) => Promise<SwitchboardEvent>;
  /** Creates a stored viewer token with the token CLI, against the project's server database. */
  createViewerToken: () => Promise<string>;
}

const run = promisify(execFile);

/** Runs `npm run token -- create --role viewer` the way an operator would, and reads the printed token. */
export async function createViewerToken(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "server/auth/token-cli.ts", "create", "--role", "viewer", "--name", "e2e viewer"], {
    env: { ...process.env, ...env, LOG_LEVEL: "warn" },
  });
  const token = /sb_viewer_\S+/.exec(stdout)?.[0];
  if (!token) throw new Error(`the token CLI printed no viewer token:\n${stdout}`);
  return token;
}

/** Signs in through the login page. */
export async function signIn(page: Page, token: string) {
  await page.goto("/login");
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/");
}

export const test = base.extend<Fixtures, ServerEnvOptions>({
  serverEnv: [{}, { option: true, scope: "worker" }],
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
  createViewerToken: async ({ serverEnv }, provide) => {
    await provide(() => createViewerToken(serverEnv));
  },
});

export { expect };

/** The live event grid's row showing `text`. */
export const eventRow = (page: Page, text: string, grid = "Live events") =>
  page.getByRole("grid", { name: grid }).getByRole("row").filter({ hasText: text });
