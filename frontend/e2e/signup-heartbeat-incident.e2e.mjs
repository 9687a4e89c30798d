// The headline journey: sign up → confirm by e-mail → create a heartbeat → copy its ping URL → ping it →
// let it miss → the incident appears live, without a reload → acknowledge it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertAccessible, explained, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test("a new team is paged for a missed heartbeat and acknowledges it live", async () => {
  const { page, errors } = await newPage(chrome.browser);
  const email = uniqueEmail("owner");
  await explained(page, async () => {

  await page.goto("/signup");
  await assertAccessible(page, "sign-up");
  await screenshot(page, "signup");
  await signUp(page, { name: "Olive Owner", email, password: "correct horse battery staple", team: "Backups Inc" });
  await page.getByText("Welcome to Xinex").waitFor();
  await page.getByText("Nothing monitored yet").waitFor();
  await assertAccessible(page, "overview (empty)");

  // Create a heartbeat: a job every 4 s with 2 s of grace.
  await page.getByRole("link", { name: "New heartbeat" }).first().click();
  await page.getByRole("heading", { name: "New heartbeat" }).waitFor();
  await assertAccessible(page, "new heartbeat");
  await page.getByLabel("Name", { exact: true }).fill("nightly backup");
  await page.getByLabel("Period (seconds)", { exact: true }).fill("4");
  await page.getByLabel("Grace period (seconds)", { exact: true }).fill("2");
  await page.getByRole("button", { name: "Create heartbeat" }).click();
  await page.getByRole("heading", { name: "nightly backup" }).waitFor();
  await page.getByText("No pings yet").waitFor();
  await assertAccessible(page, "heartbeat detail");
  await screenshot(page, "heartbeat");

  // Copy its ping URL with the button, as a user would, and read it back from the clipboard.
  await page.getByRole("button", { name: "Copy ping URL" }).click();
  const pingUrl = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(pingUrl, /^http:\/\/127\.0\.0\.1:\d+\/ping\/[0-9a-f-]{36}$/);
  assert.equal(pingUrl, (await page.getByTestId("ping-url").textContent()).trim());

  // Watch the incidents page (client-side navigation: no reload from here on).
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Incidents" }).click();
  await page.getByText("No open incidents").waitFor();
  await page.locator(".live-dot[data-state=open]").waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });

  const ping = await fetch(pingUrl);
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), "OK");

  // No more pings: 4 s + 2 s later it is missed, the incident opens and the feed brings it here.
  const row = page.getByRole("link", { name: /nightly backup/ });
  await row.waitFor({ timeout: 40_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was reloaded");
  await assertAccessible(page, "incidents");
  await screenshot(page, "incidents");

  await row.click();
  await page.getByRole("button", { name: "Acknowledge" }).click();
  await page.getByRole("button", { name: "Acknowledge" }).waitFor({ state: "detached" });
  await page.locator(".page-head .badge", { hasText: "acknowledged" }).waitFor();
  await page.getByRole("list", { name: "Timeline" }).getByText(/acknowledged/i).first().waitFor();
  await assertAccessible(page, "incident detail");
  await screenshot(page, "incident");

  // The page to the owner is in their feed: the badge counts it, the feed lists it.
  await page.getByRole("link", { name: /Notifications.*unread/ }).click();
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
  await page.getByRole("link", { name: /nightly backup/ }).first().waitFor();
  await assertAccessible(page, "notifications");
  await page.getByRole("button", { name: "Mark all as read" }).click();
  await page.getByRole("link", { name: /Notifications.*unread/ }).waitFor({ state: "detached" });

  // The overview shows the heartbeat down.
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("row", { name: /nightly backup.*down/i }).waitFor();
  await screenshot(page, "overview");

  // A malformed id in the URL is a "not found" page with a way back, not the raw validation message.
  await page.goto("/incidents/not-a-uuid");
  await page.getByRole("heading", { name: "Incident not found" }).waitFor();
  await page.getByRole("link", { name: "← Incidents" }).click();
  await page.getByRole("heading", { name: "Incidents", exact: true }).waitFor();

  // The session ends behind the app's back (signed out elsewhere): the next in-app navigation goes to sign-in
  // and comes back to where it was, instead of a dead-end error under a shell that still shows the user.
  await page.evaluate(async () => {
    const csrf = document.cookie.split("; ").find((c) => c.startsWith("xinex_csrf="))?.split("=")[1] ?? "";
    await fetch("/api/v1/auth/logout", { method: "POST", headers: { "X-CSRF-Token": decodeURIComponent(csrf) } });
  });
  await page.getByRole("link", { name: "Heartbeats" }).click();
  await page.waitForURL((url) => url.pathname === "/login" && url.searchParams.get("next") === "/heartbeats");
  await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
  });
  assert.deepEqual(errors, []);
});
