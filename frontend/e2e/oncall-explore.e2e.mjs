// Create a schedule with an override and see who is on call; run an OQL query and see a chart.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { BASE_URL, assertAccessible, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

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

test("the mobile app's consent page hands a signed-in user's code back to the app", async () => {
  const { page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Pia Phone", email: uniqueEmail("phone"), password: "correct horse battery staple" });
  const verifier = "a-very-long-code-verifier-of-the-mobile-app-0123456789";
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({ response_type: "code", client_id: "xinex-mobile", redirect_uri: "xinex://oauth/callback",
    code_challenge: challenge, code_challenge_method: "S256", state: "st4te" });
  await page.goto(`/authorize?${query}`);
  await page.getByText("xinex-mobile", { exact: true }).waitFor();
  await assertAccessible(page, "consent");
  const answer = page.waitForResponse((r) => r.url().includes("/oauth/authorize"));
  await page.getByRole("button", { name: "Allow" }).click();
  const res = await answer;
  assert.equal(res.status(), 302);
  const location = new URL(res.headers().location);
  assert.equal(`${location.protocol}//${location.host}${location.pathname}`, "xinex://oauth/callback");
  assert.equal(location.searchParams.get("state"), "st4te");
  const token = await fetch(new URL("/oauth/token", BASE_URL), {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: location.searchParams.get("code"), client_id: "xinex-mobile",
      redirect_uri: "xinex://oauth/callback", code_verifier: verifier }),
  });
  assert.equal(token.status, 200, await token.clone().text());
  assert.ok((await token.json()).access_token);
  assert.deepEqual(errors.filter((e) => !e.includes("xinex://")), []);
});
