import { ADMIN_TOKEN, eventRow, expect, signIn, test, uniqueName, uniqueTitle } from "./fixtures";

test("an operator replays the last 15 minutes and sees older events, then live ones, each once", async ({ page, publishEvent }) => {
  const agent = uniqueName("replayer");
  const older = [uniqueTitle("Older one"), uniqueTitle("Older two"), uniqueTitle("Older three")];
  for (const title of older) await publishEvent("tasks", { type: "task.created", agent, project: "e2e", payload: { title } });

  await signIn(page, ADMIN_TOKEN);
  await page.goto(`/replay?agent=${agent}`);
  await page.getByRole("radio", { name: "Last 15 minutes" }).check();
  await page.getByRole("button", { name: "Load replay" }).click();

  await expect(page.getByRole("status", { name: "Replay status" })).toContainText("History loaded: 3 events, continuing live");
  for (const title of older) await expect(eventRow(page, title, "Replayed events")).toHaveCount(1);

  const newer = [uniqueTitle("Live one"), uniqueTitle("Live two")];
  for (const title of newer) await publishEvent("messages", { type: "message.sent", agent, project: "e2e", payload: { from: agent, to: "x", text: title } });
  for (const title of newer) await expect(eventRow(page, title, "Replayed events")).toHaveCount(1);
  await expect(page.getByRole("status", { name: "Replay status" })).toContainText("(2 new)");
  for (const title of older) await expect(eventRow(page, title, "Replayed events")).toHaveCount(1);
  await expect(page.getByRole("grid", { name: "Replayed events" })).toHaveAttribute("aria-rowcount", "6");

  // Played back at speed, the same events come in time order.
  await page.getByLabel("Speed").selectOption("50");
  await page.getByRole("button", { name: "Replay at speed" }).click();
  await expect(page.getByRole("status", { name: "Replay status" })).toContainText("Played 3 events.");
});
