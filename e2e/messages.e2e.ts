import { ADMIN_TOKEN, expect, signIn, test, uniqueName } from "./fixtures";

test("an open thread follows new messages at the bottom, and leaves a reader who scrolled up in place", async ({ page, publishEvent }) => {
  const from = uniqueName("scout");
  const to = uniqueName("keeper");
  const project = uniqueName("relay");
  const say = (i: number) => publishEvent("messages", { type: "message.sent", agent: from, project, payload: { from, to, text: `Relay note ${from} #${i}` } });
  // More than the thread shows at once, so it has to scroll.
  for (let i = 1; i <= 30; i++) await say(i);

  await signIn(page, ADMIN_TOKEN);
  await page.goto(`/messages?a=${from}&b=${to}`);
  const thread = page.getByRole("list", { name: "Messages" });
  const message = (i: number) => thread.getByRole("listitem").filter({ hasText: new RegExp(`Relay note ${from} #${i}$`) });

  // It opens at the newest message.
  await expect(message(30)).toBeInViewport();
  await expect(message(1)).not.toBeInViewport();

  // At the bottom, a new message scrolls into view.
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  await say(31);
  await expect(message(31)).toBeInViewport();

  // Scrolled up to read, a new message does not move the thread; a button offers to jump to it.
  await thread.hover();
  await page.mouse.wheel(0, -20_000);
  await expect(message(1)).toBeInViewport();
  await say(32);
  const jump = page.getByRole("button", { name: "1 new message" });
  await expect(jump).toBeVisible();
  await expect(message(32)).toBeAttached();
  await expect(message(32)).not.toBeInViewport();
  await expect(message(1)).toBeInViewport();

  await jump.click();
  await expect(message(32)).toBeInViewport();
  await expect(jump).toBeHidden();
});
