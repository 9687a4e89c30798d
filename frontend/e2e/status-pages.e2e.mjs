// The status page editor: create a page, group components bound to a heartbeat or set by hand, pin a status,
// report an incident and take it through the four states, preview it, brand it, and see the public page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, apiCall, assertAccessible, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test("a status page with a group, components, an incident through its four states, a preview and the public page", async () => {
  const { context, page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Stella Status", email: uniqueEmail("status"), password: "correct horse battery staple" });
  await apiCall(context, "POST", "/api/v1/heartbeats", { name: "nightly backup", interval: 86400, grace: 3600 });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Status pages" }).click();
  await page.getByText("No status pages yet").waitFor();
  await page.getByLabel("Page name", { exact: true }).fill("Acme Status");
  const slug = `acme-${Date.now().toString(36)}`;
  assert.equal(await page.getByLabel("Slug", { exact: true }).inputValue(), "acme-status");
  await page.getByLabel("Slug", { exact: true }).fill(slug);
  await page.getByRole("button", { name: "Create status page" }).click();
  await page.getByRole("heading", { name: "Acme Status", level: 1 }).waitFor();
  await page.getByText("No components yet").waitFor();

  await page.getByLabel("Group name", { exact: true }).fill("Core services");
  await page.getByRole("button", { name: "Add group" }).click();
  await page.getByRole("button", { name: "Delete group Core services" }).waitFor();

  await page.getByLabel("Component name", { exact: true }).fill("Backups");
  await page.getByLabel("Group", { exact: true }).selectOption({ label: "Core services" });
  await page.getByLabel("Status from", { exact: true }).selectOption("heartbeat");
  await page.getByLabel("Source", { exact: true }).selectOption({ label: "nightly backup" });
  await page.getByRole("button", { name: "Add component" }).click();
  const table = page.getByRole("table", { name: "Components" });
  await table.getByRole("row", { name: /Backups.*heartbeat nightly backup.*Operational/ }).waitFor();

  await page.getByLabel("Component name", { exact: true }).fill("Website");
  await page.getByLabel("Group", { exact: true }).selectOption({ label: "no group" });
  await page.getByLabel("Status from", { exact: true }).selectOption("manual");
  await page.getByRole("button", { name: "Add component" }).click();
  await table.getByRole("row", { name: /Website.*set by hand/ }).waitFor();
  await page.getByLabel("Pinned status of Website", { exact: true }).selectOption({ label: "Degraded performance" });
  await table.getByRole("row", { name: /Website.*Degraded performance/ }).waitFor();
  await assertAccessible(page, "status page: components");
  await screenshot(page, "status-page-components");

  // An incident through investigating → identified → monitoring → resolved.
  await page.getByRole("tab", { name: "Incidents" }).click();
  await page.getByText("No open incidents").waitFor();
  await page.getByLabel("Incident title", { exact: true }).fill("Backups are late");
  await page.getByLabel("First update", { exact: true }).fill("We are looking into late backups.");
  await page.getByLabel("Backups", { exact: true }).check();
  await page.getByLabel("Impact on Backups", { exact: true }).selectOption("partial_outage");
  await page.getByRole("button", { name: "Publish incident" }).click();
  const incident = page.getByRole("article", { name: "Incident Backups are late" });
  await incident.getByText("We are looking into late backups.").waitFor();
  for (const [state, message] of [["identified", "A full disk on the backup host."], ["monitoring", "Disk cleaned; watching tonight's run."]]) {
    await incident.getByLabel("New state of Backups are late", { exact: true }).selectOption(state);
    await incident.getByLabel("Update for Backups are late", { exact: true }).fill(message);
    await incident.getByRole("button", { name: "Post update" }).click();
    await incident.getByText(message).waitFor();
  }
  await assertAccessible(page, "status page: incidents");
  await screenshot(page, "status-page-incidents");

  // Preview: the worst status is the headline, the open incident is shown.
  await page.getByRole("tab", { name: "Preview" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await preview.getByText("Partial outage", { exact: true }).first().waitFor();
  await preview.getByRole("heading", { name: "Core services" }).waitFor();
  await preview.getByText(/monitoring — Disk cleaned/).waitFor();
  await assertAccessible(page, "status page: preview");
  await screenshot(page, "status-page-preview");

  await page.getByRole("tab", { name: "Incidents" }).click();
  await incident.getByLabel("New state of Backups are late", { exact: true }).selectOption("resolved");
  await incident.getByLabel("Update for Backups are late", { exact: true }).fill("Tonight's backup ran on time.");
  await incident.getByRole("button", { name: "Post update" }).click();
  await page.getByText("No open incidents").waitFor();
  await page.getByRole("region", { name: "Resolved" }).getByText("Tonight's backup ran on time.").waitFor();

  // Settings: branding and sections.
  await page.getByRole("tab", { name: "Settings" }).click();
  await page.getByLabel("Description", { exact: true }).fill("Live status of Acme's services");
  await page.getByLabel("Brand colour", { exact: true }).fill("#aa3377");
  await page.getByLabel("Response times", { exact: true }).check();
  await page.getByRole("button", { name: "Save page" }).click();
  await page.getByText("Page saved.").waitFor();
  await assertAccessible(page, "status page: settings");
  const saved = (await apiCall(context, "GET", "/api/v1/status-pages")).items[0];
  assert.equal(saved.brand_color, "#aa3377");
  assert.equal(saved.show_response_times, true);

  // The public page, as a visitor sees it.
  const visitor = await newPage(chrome.browser);
  await visitor.page.goto(`/status/${slug}`);
  await visitor.page.getByText("Backups").first().waitFor();
  await visitor.page.getByText("Website").first().waitFor();
  await visitor.page.getByText("Live status of Acme's services").waitFor();
  await visitor.context.close();

  // A visitor subscribes on the public page; the editor lists and removes them.
  const follower = uniqueEmail("follower");
  const sub = await fetch(`${BASE_URL}/api/v1/public/status-pages/${slug}/subscribe`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: follower }) });
  assert.equal(sub.status, 202, await sub.text());
  await page.getByRole("tab", { name: "Subscribers" }).click();
  await page.getByRole("table", { name: "Subscribers" }).getByRole("row", { name: new RegExp(`email.*${follower}.*pending`) }).waitFor();
  await assertAccessible(page, "status page: subscribers");
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: `Remove subscriber ${follower}` }).click();
  await page.getByText("No subscribers yet").waitFor();

  // Back on the list, then delete the page.
  await page.getByRole("link", { name: "← Status pages" }).click();
  await page.getByRole("table", { name: "Status pages" }).getByRole("link", { name: "Acme Status" }).click();
  await page.getByRole("tab", { name: "Settings" }).click();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete status page" }).click();
  await page.getByText("No status pages yet").waitFor();
  assert.deepEqual(errors, []);
});
