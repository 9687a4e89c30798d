// The on-call area's editors: escalation policies, routing rules, maintenance windows, silences, schedule layers
// (overrides still working), and reassigning an incident — each created, edited and deleted through the pages.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BASE_URL, apiCall, assertAccessible, explained, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
let ctx;
const NAME = "Rita Rota";

before(async () => {
  chrome = await launch();
  ctx = await newPage(chrome.browser);
  await signUp(ctx.page, { name: NAME, email: uniqueEmail("rota"), password: "correct horse battery staple" });
});
after(async () => { await chrome?.close(); });

/** Opens an on-call tab from the main navigation, as a user would. */
async function openTab(page, tab, heading) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "On-call" }).click();
  await page.getByRole("navigation", { name: "On-call" }).getByRole("link", { name: tab }).click();
  await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
}

/** A screenshot scrolled to `part` of the page, for editors below the fold. */
async function screenshotAt(page, part, name) {
  if (!process.env.ARTIFACTS_DIR) return;
  mkdirSync(process.env.ARTIFACTS_DIR, { recursive: true });
  await part.evaluate((el) => el.scrollIntoView({ block: "center" }));
  await page.screenshot({ path: join(process.env.ARTIFACTS_DIR, `${name}.png`) });
}

async function confirm(page, title, button) {
  const dialog = page.getByRole("dialog", { name: title });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: button }).click();
  await dialog.waitFor({ state: "hidden" });
}

test("an escalation policy is created with steps, edited and deleted", async () => {
  const { page, context } = ctx;
  await explained(page, async () => {
    const channel = await apiCall(context, "POST", "/api/v1/notification-channels", {
      name: "ops-room", kind: "webhook", enabled: false, config: { url: "http://127.0.0.1:9/unused" } });
    assert.ok(channel.id);
    await openTab(page, "Escalation policies", "Escalation policies");
    await page.getByText("No escalation policies yet").waitFor();
    await page.getByRole("button", { name: "New policy" }).click();
    const form = page.getByRole("form", { name: "New escalation policy" });
    await form.getByLabel("Policy name", { exact: true }).fill("Database team");
    await form.getByLabel("Add a target to step 1", { exact: true }).selectOption({ label: NAME });
    await form.getByRole("button", { name: "Add step" }).click();
    await form.getByLabel("Wait before step 2 (minutes)", { exact: true }).fill("15");
    await form.getByLabel("Add a target to step 2", { exact: true }).selectOption({ label: "ops-room" });
    await form.getByLabel("Repeat the whole policy (times)", { exact: true }).fill("1");
    await assertAccessible(page, "escalation policy editor");
    await form.getByRole("button", { name: "Create policy" }).click();
    const row = page.getByRole("row", { name: /Database team/ });
    await row.getByText(`Step 1 at once: ${NAME} · Step 2 after 15 min: channel ops-room`).waitFor();
    await row.getByText("1× after 30 min").waitFor();

    await page.getByRole("button", { name: "Edit Database team" }).click();
    const edit = page.getByRole("form", { name: "Edit Database team" });
    await edit.getByLabel("Wait before step 2 (minutes)", { exact: true }).fill("5");
    await edit.getByRole("button", { name: "Remove channel ops-room from step 2" }).click();
    await edit.getByLabel("Add a target to step 2", { exact: true }).selectOption({ label: NAME });
    await edit.getByRole("button", { name: "Save policy" }).click();
    await row.getByText(`Step 2 after 5 min: ${NAME}`).waitFor();
    await assertAccessible(page, "escalation policies");
    await screenshot(page, "escalation-policies");

    // A second policy to delete (the first one stays for the rules below).
    await page.getByRole("button", { name: "New policy" }).click();
    await page.getByLabel("Policy name", { exact: true }).fill("Temporary");
    await page.getByLabel("Add a target to step 1", { exact: true }).selectOption({ label: "ops-room" });
    await page.getByRole("button", { name: "Create policy" }).click();
    await page.getByRole("row", { name: /Temporary/ }).waitFor();
    await page.getByRole("button", { name: "Delete Temporary" }).click();
    await confirm(page, "Delete the policy Temporary?", "Delete policy");
    await page.getByRole("row", { name: /Temporary/ }).waitFor({ state: "detached" });
  });
});

test("routing rules are created with matchers, reordered, edited and deleted", async () => {
  const { page, context } = ctx;
  await explained(page, async () => {
    await apiCall(context, "POST", "/api/v1/heartbeats", { name: "nightly export", interval: 3600, grace: 600 });
    await openTab(page, "Routing rules", "Routing rules");
    await page.getByText("No routing rules yet").waitFor();
    for (const [name, tags, severity] of [["Databases", "db, postgres", "critical"], ["Payments", "payments", null]]) {
      await page.getByRole("button", { name: "New rule" }).click();
      const form = page.getByRole("form", { name: "New routing rule" });
      await form.getByLabel("Rule name", { exact: true }).fill(name);
      await form.getByLabel("Tags (labels)", { exact: true }).fill(tags);
      if (severity) await form.getByLabel(severity, { exact: true }).check();
      await form.getByLabel("Escalation policy", { exact: true }).selectOption({ label: "Database team" });
      await form.getByRole("button", { name: "Create rule" }).click();
      await page.getByRole("row", { name: new RegExp(name) }).waitFor();
    }
    const table = page.getByRole("table", { name: "Routing rules in evaluation order" });
    const order = async () => (await table.locator("tbody tr td:nth-child(2) strong").allTextContents());
    assert.deepEqual(await order(), ["Databases", "Payments", "Default route"]);
    await page.getByRole("row", { name: /Databases/ }).getByText("tags db + postgres · severity critical").waitFor();

    await page.getByRole("button", { name: "Move Payments up" }).click();
    await page.waitForFunction(() => document.querySelector("table tbody tr td:nth-child(2) strong")?.textContent === "Payments");
    assert.deepEqual(await order(), ["Payments", "Databases", "Default route"]);
    await page.reload();
    await table.waitFor();
    assert.deepEqual(await order(), ["Payments", "Databases", "Default route"], "the new order is stored");

    await page.getByRole("button", { name: "Edit Payments" }).click();
    const edit = page.getByRole("form", { name: "Edit Payments" });
    await edit.getByLabel("Service", { exact: true }).fill("checkout");
    await edit.getByLabel("Source", { exact: true }).selectOption({ label: "Heartbeats" });
    await edit.getByLabel("nightly export", { exact: true }).check();
    await edit.getByLabel("ops-room", { exact: true }).check();
    await edit.getByRole("button", { name: "Save rule" }).click();
    await page.getByRole("row", { name: /Payments/ }).getByText("source heartbeat · 1 chosen source(s) · tags payments · service checkout").waitFor();
    await page.getByRole("row", { name: /Payments/ }).getByText("policy Database team, channel ops-room").waitFor();
    await assertAccessible(page, "routing rules");
    await screenshot(page, "routing-rules");

    await page.getByRole("button", { name: "Delete Databases" }).click();
    await confirm(page, "Delete the rule Databases?", "Delete rule");
    await page.getByRole("row", { name: /Databases/ }).waitFor({ state: "detached" });
    assert.deepEqual(await order(), ["Payments", "Default route"]);
  });
});

test("a maintenance window is created in a time zone for a heartbeat, ended early, and cancelled", async () => {
  const { page, context } = ctx;
  await explained(page, async () => {
    await openTab(page, "Maintenance", "Maintenance windows");
    await page.getByText("No maintenance windows").waitFor();

    // In force now: started an hour ago on Tokyo's clock (no daylight saving there: +09:00).
    const tokyo = (ms) => new Date(ms + 9 * 3600_000).toISOString().slice(0, 16);
    await page.getByRole("button", { name: "New window" }).click();
    const form = page.getByRole("form", { name: "New maintenance window" });
    await form.getByLabel("Window name", { exact: true }).fill("Database upgrade");
    await form.getByLabel("Time zone", { exact: true }).fill("Asia/Tokyo");
    await form.getByLabel("Starts", { exact: true }).fill(tokyo(Date.now() - 3600_000));
    await form.getByLabel("Ends", { exact: true }).fill(tokyo(Date.now() + 3 * 3600_000));
    await form.getByLabel("nightly export", { exact: true }).check();
    await assertAccessible(page, "maintenance window form");
    await form.getByRole("button", { name: "Create window" }).click();
    const active = page.getByRole("region", { name: "In force now" });
    await active.getByRole("row", { name: /Database upgrade.*nightly export/ }).waitFor();

    // Upcoming: next week, then cancelled.
    await page.getByRole("button", { name: "New window" }).click();
    await page.getByLabel("Window name", { exact: true }).fill("Network work");
    await page.getByLabel("Starts", { exact: true }).fill(tokyo(Date.now() + 7 * 86400_000));
    await page.getByLabel("Ends", { exact: true }).fill(tokyo(Date.now() + 7 * 86400_000 + 3600_000));
    await page.getByLabel("Time zone", { exact: true }).fill("Asia/Tokyo");
    await page.getByRole("button", { name: "Create window" }).click();
    await page.getByRole("region", { name: "Upcoming" }).getByRole("row", { name: /Network work.*everything in the team/ }).waitFor();
    const windows = await apiCall(context, "GET", "/api/v1/maintenance-windows");
    const upgrade = windows.items.find((w) => w.name === "Database upgrade");
    assert.equal(upgrade.timezone, "Asia/Tokyo");
    assert.ok(Math.abs(Date.parse(upgrade.starts_at) - (Date.now() - 3600_000)) < 120_000, "the start was read on Tokyo's clock");
    await assertAccessible(page, "maintenance windows");
    await screenshot(page, "maintenance");

    // Recurring: Sundays at 02:00 Berlin time for 90 minutes.
    await page.getByRole("button", { name: "New window" }).click();
    await page.getByLabel("Window name", { exact: true }).fill("Sunday backups");
    await page.getByLabel("Recurring (cron)", { exact: true }).check();
    await page.getByLabel("Time zone", { exact: true }).fill("Europe/Berlin");
    await page.getByLabel("Cron expression", { exact: true }).fill("0 2 * * 0");
    await page.getByLabel("Duration (minutes)", { exact: true }).fill("90");
    await page.getByLabel("Tags", { exact: true }).fill("backup");
    await page.getByRole("button", { name: "Create window" }).click();
    await page.getByRole("region", { name: "Upcoming" })
      .getByRole("row", { name: /Sunday backups.*0 2 \* \* 0 \(Europe\/Berlin\) for 90 min.*tag backup/ }).waitFor();

    await page.getByRole("button", { name: "End now: Database upgrade" }).click();
    await confirm(page, "End Database upgrade now?", "End now");
    await page.getByRole("region", { name: "Past" }).getByRole("row", { name: /Database upgrade/ }).waitFor();
    await page.getByRole("button", { name: "Cancel Network work" }).click();
    await confirm(page, "Cancel Network work?", "Cancel window");
    await page.getByRole("row", { name: /Network work/ }).waitFor({ state: "detached" });
  });
});

test("a silence is created with matchers and an expiry, then expired now", async () => {
  const { page } = ctx;
  await explained(page, async () => {
    await openTab(page, "Silences", "Silences");
    await page.getByText("No silences").waitFor();
    await page.getByRole("button", { name: "New silence" }).click();
    const form = page.getByRole("form", { name: "New silence" });
    await form.getByLabel("Silence name", { exact: true }).fill("Noisy staging");
    await form.getByRole("button", { name: "Create silence" }).click();
    await form.getByRole("alert").getByText(/at least one matcher/).waitFor(); // the API's own message
    await form.getByLabel("Tags (labels)", { exact: true }).fill("staging");
    await form.getByLabel("warning", { exact: true }).check();
    await form.getByLabel("Expires after", { exact: true }).selectOption({ label: "1 day" });
    await form.getByRole("button", { name: "Create silence" }).click();
    const row = page.getByRole("row", { name: /Noisy staging/ });
    await row.getByText("tags staging · severity warning").waitFor();
    await row.getByText("active").waitFor();
    await assertAccessible(page, "silences");
    await screenshot(page, "silences");
    await page.getByRole("button", { name: "Expire now: Noisy staging" }).click();
    await confirm(page, "Expire Noisy staging now?", "Expire now");
    await page.getByText("No silences").waitFor();
  });
});

test("schedule layers are added, edited and removed; overrides and the iCal link still work", async () => {
  const { page, errors } = ctx;
  await explained(page, async () => {
    await openTab(page, "Schedules", "On-call schedules");
    await page.getByLabel("Schedule name", { exact: true }).fill("Platform");
    await page.getByLabel("Time zone", { exact: true }).fill("Europe/Berlin");
    await page.getByRole("button", { name: "Create schedule" }).click();
    await page.getByRole("heading", { name: "Platform", level: 1 }).waitFor();
    await page.getByText("No layers: nobody is on call except by override.").waitFor();
    await page.getByText(/\/api\/v1\/schedules\/[0-9a-f-]{36}\/ical$/).waitFor();

    await page.getByRole("button", { name: "Add layer" }).click();
    let form = page.getByRole("form", { name: "New layer" });
    await form.getByLabel("Layer name", { exact: true }).fill("Weekdays");
    await form.getByLabel("Rotation type", { exact: true }).selectOption({ label: "Daily hand-off" });
    await form.getByLabel("First hand-off", { exact: true }).fill("2026-01-05T00:00");
    await form.getByLabel("Add a person to the rotation", { exact: true }).selectOption({ label: NAME });
    await form.getByRole("button", { name: "Save layer" }).click();
    const layers = page.getByRole("list", { name: "Layers" });
    await layers.getByText(`daily from 2026-01-05 00:00 — ${NAME}`).waitFor();
    await page.getByTestId("oncall-now").getByText(NAME).waitFor(); // a 24/7 layer: on call now

    await page.getByRole("button", { name: "Edit Weekdays" }).click();
    form = page.getByRole("form", { name: "Edit Weekdays" });
    await form.getByLabel("Rotation type", { exact: true }).selectOption({ label: "Every N hours" });
    await form.getByLabel("Shift length (hours)", { exact: true }).fill("12");
    await form.getByRole("button", { name: "Add restriction" }).click();
    await form.getByLabel("From (restriction 1)", { exact: true }).fill("08:00");
    await form.getByLabel("Until (restriction 1)", { exact: true }).fill("18:00");
    await assertAccessible(page, "layer editor");
    await form.getByRole("button", { name: "Save layer" }).click();
    await layers.getByText(`every 12 h from 2026-01-05 00:00 — ${NAME} · only Mon, Tue, Wed, Thu, Fri 08:00–18:00`).waitFor();

    await page.getByLabel("Who takes over", { exact: true }).selectOption({ label: NAME });
    await page.getByRole("button", { name: "Add override" }).click();
    await page.getByRole("button", { name: `Remove the override of ${NAME}` }).waitFor();
    await page.getByText("by override", { exact: true }).waitFor();
    await assertAccessible(page, "schedule with layers");
    await screenshotAt(page, page.getByRole("region", { name: "Layers" }), "schedule-layers");

    await page.getByRole("button", { name: "Remove Weekdays" }).click();
    await confirm(page, "Remove Weekdays?", "Remove layer");
    await page.getByText("No layers: nobody is on call except by override.").waitFor();
    await page.getByRole("button", { name: `Remove the override of ${NAME}` }).waitFor(); // the override stays
    assert.deepEqual(errors, []);
  });
});

test("an incident is reassigned to an escalation policy from its page", async () => {
  const { page, context } = ctx;
  await explained(page, async () => {
    const integration = await apiCall(context, "POST", "/api/v1/integrations", { name: "pd", kind: "pagerduty" });
    const sent = await fetch(new URL("/v2/enqueue", BASE_URL), { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ routing_key: integration.key, event_action: "trigger", dedup_key: "disk-full",
        payload: { summary: "disk full on db-1", source: "db-1", severity: "critical" } }) });
    assert.equal(sent.status, 202, await sent.clone().text());
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Incidents" }).click();
    await page.getByRole("link", { name: /disk full on db-1/ }).click({ timeout: 40_000 });
    await page.getByRole("heading", { name: "disk full on db-1" }).waitFor();

    await page.getByRole("button", { name: "Reassign" }).click();
    const dialog = page.getByRole("dialog", { name: "Reassign incident" });
    await dialog.getByLabel("An escalation policy", { exact: true }).check();
    await dialog.getByLabel("Escalation policy", { exact: true }).selectOption({ label: "Database team" });
    await assertAccessible(page, "reassign dialog");
    await dialog.getByRole("button", { name: "Reassign" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("list", { name: "Timeline" }).getByText("Reassigned to escalation policy Database team").waitFor();
    await page.locator("dl.props").getByText("Database team").waitFor();

    await page.getByRole("button", { name: "Reassign" }).click();
    await dialog.getByLabel("A teammate", { exact: true }).check();
    await dialog.getByLabel("Teammate", { exact: true }).selectOption({ label: NAME });
    await dialog.getByRole("button", { name: "Reassign" }).click();
    await page.getByRole("list", { name: "Timeline" }).getByText(new RegExp(`^reassigned — Reassigned to ${NAME}`)).waitFor();
    await page.locator("dl.props").getByText(new RegExp(`Reassigned to ${NAME}`)).waitFor();
    await assertAccessible(page, "incident after reassign");
  });
});
