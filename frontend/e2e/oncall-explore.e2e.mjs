// Create a schedule with an override and see who is on call; run an OQL query and see a chart.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertAccessible, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test("a schedule with an override shows who is on call", async () => {
  const { page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Omar Oncall", email: uniqueEmail("oncall"), password: "correct horse battery staple" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "On-call" }).click();
  await page.getByText("No schedules yet").waitFor();
  await page.getByLabel("Schedule name", { exact: true }).fill("Primary");
  // No rotation: only the override will put someone on call.
  await page.getByRole("button", { name: "Create schedule" }).click();
  await page.getByRole("heading", { name: "Primary" }).waitFor();
  await page.getByText("No overrides").waitFor();
  assert.equal((await page.getByTestId("oncall-now").textContent()).trim(), "nobody");

  await page.getByLabel("Who takes over", { exact: true }).selectOption({ label: "Omar Oncall" });
  await page.getByRole("button", { name: "Add override" }).click();
  await page.getByRole("button", { name: "Remove the override of Omar Oncall" }).waitFor();
  await page.getByTestId("oncall-now").getByText("Omar Oncall").waitFor();
  await page.getByText("by override", { exact: true }).waitFor();
  await page.locator(".cal-override", { hasText: "Omar Oncall" }).first().waitFor();
  await assertAccessible(page, "schedule");
  await screenshot(page, "schedule");

  await page.getByRole("link", { name: "← Schedules" }).click();
  await page.getByRole("row", { name: /Primary.*Omar Oncall/ }).waitFor();
  assert.deepEqual(errors, []);
});

test("an OQL TIMESERIES query is drawn as a chart, and a syntax error points at its place", async () => {
  const { page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Eve Explorer", email: uniqueEmail("explore"), password: "correct horse battery staple" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Explore" }).click();
  const editor = page.getByLabel("OQL query", { exact: true });
  await editor.fill("SELECT count() FROM spans TIMESERIES 5m LAST 1h");
  await page.getByRole("button", { name: "Run query" }).click();
  await page.getByRole("figure", { name: "Query result over time" }).locator("canvas").waitFor();
  await page.getByRole("table", { name: "Query results" }).waitFor();
  assert.ok(await page.getByRole("table", { name: "Query results" }).getByRole("row").count() >= 12);
  await assertAccessible(page, "explore");
  await screenshot(page, "explore");

  await editor.fill("SELECT count()\nFRM spans");
  await page.getByRole("button", { name: "Run query" }).click();
  await page.getByRole("alert").getByText(/line 2, column 1/).waitFor();
  assert.equal(await editor.evaluate((el) => el.selectionStart), "SELECT count()\n".length);
  assert.deepEqual(errors, []);
});
