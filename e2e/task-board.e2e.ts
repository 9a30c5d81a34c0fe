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

test("the task board's filter inputs follow the address through back and forward", async ({ page, publishEvent }) => {
  const first = { project: uniqueName("alpha"), agent: uniqueName("ada"), title: uniqueTitle("Sort the inbox") };
  const second = { project: uniqueName("beta"), agent: uniqueName("bob"), title: uniqueTitle("Rotate the keys") };
  for (const { project, agent, title } of [first, second]) {
    await publishEvent("tasks", { type: "task.created", agent, project, payload: { taskId: `T-${title.split(" ").at(-1)}`, title, status: "created" } });
  }

  await signIn(page, ADMIN_TOKEN);
  await page.goto("/tasks");
  const filters = page.getByRole("search", { name: "Filter tasks" });
  const projectInput = filters.getByLabel("Project");
  const agentInput = filters.getByLabel("Agent");
  const card = (title: string) => page.getByRole("list", { name: "Created" }).getByRole("listitem").filter({ hasText: title });

  await projectInput.fill(first.project);
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(`/tasks?project=${first.project}`);
  await expect(card(first.title)).toBeVisible();
  await expect(card(second.title)).toHaveCount(0);

  await projectInput.fill(second.project);
  await agentInput.fill(second.agent);
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(`/tasks?project=${second.project}&agent=${second.agent}`);
  await expect(card(second.title)).toBeVisible();
  await expect(card(first.title)).toHaveCount(0);

  await page.goBack();
  await expect(page).toHaveURL(`/tasks?project=${first.project}`);
  await expect(projectInput).toHaveValue(first.project);
  await expect(agentInput).toHaveValue("");
  await expect(card(first.title)).toBeVisible();
  await expect(card(second.title)).toHaveCount(0);

  await page.goBack();
  await expect(page).toHaveURL("/tasks");
  await expect(projectInput).toHaveValue("");
  await expect(agentInput).toHaveValue("");

  await page.goForward();
  await expect(projectInput).toHaveValue(first.project);
  await page.goForward();
  await expect(page).toHaveURL(`/tasks?project=${second.project}&agent=${second.agent}`);
  await expect(projectInput).toHaveValue(second.project);
  await expect(agentInput).toHaveValue(second.agent);
  await expect(card(second.title)).toBeVisible();
  await expect(card(first.title)).toHaveCount(0);
});
