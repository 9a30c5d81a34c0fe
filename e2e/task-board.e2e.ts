import { ADMIN_TOKEN, expect, signIn, test, uniqueName, uniqueTitle } from "./fixtures";

test("the task board moves a card when its task changes status", async ({ page, publishEvent }) => {
  const project = uniqueName("board");
  const agent = uniqueName("worker");
  const title = uniqueTitle("Index the archive");
  const taskId = `T-${title.split(" ").at(-1)}`;
  await publishEvent("tasks", { type: "task.created", agent, project, payload: { taskId, title, status: "created" } });

  await signIn(page, ADMIN_TOKEN);
  await page.goto("/tasks");
  await page.getByLabel("Project").fill(project);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(`/tasks?project=${project}`);

  const column = (name: string) => page.getByRole("list", { name });
  await expect(column("Created").getByRole("listitem").filter({ hasText: title })).toBeVisible();

  await publishEvent("tasks", { type: "task.status_changed", agent, project, payload: { taskId, status: "in_progress" } });
  await expect(column("In progress").getByRole("listitem").filter({ hasText: title })).toBeVisible();
  await expect(column("Created").getByRole("listitem").filter({ hasText: title })).toHaveCount(0);

  await publishEvent("tasks", { type: "task.completed", agent, project, payload: { taskId, status: "completed" } });
  await expect(column("Completed").getByRole("listitem").filter({ hasText: title })).toBeVisible();
  await expect(column("In progress").getByRole("listitem")).toHaveCount(0);
});
