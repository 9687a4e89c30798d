// Billing with Stripe on (the server talks to the Stripe-compatible fake of tests/billing/): the plan picker sends
// the browser to Stripe Checkout with the URL the API returns; once the customer has paid there (the fake's
// control endpoint, then Stripe's signed webhooks) Stripe's return to /billing shows the new plan and its
// invoice; a downgrade is scheduled and taken back; the customer portal opens. Stripe's own pages are on the
// internet, which these tests never reach: the browser's requests to them are answered by a stand-in page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, assertAccessible, launch, newPage, screenshot, signUp, uniqueEmail } from "../harness.mjs";

const CONTROL = process.env.STRIPE_CONTROL_URL;
let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test("plan picker → Stripe Checkout → back on the Pro plan with an invoice; downgrade scheduled and undone; portal", async () => {
  const { context, page, errors } = await newPage(chrome.browser);
  const stripePages = [];
  await context.route(/^https:\/\/(checkout|billing)\.stripe\.com\//, (route) => {
    stripePages.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/html", body: "<title>Stripe</title><h1>Stripe (stand-in)</h1>" });
  });
  await signUp(page, { name: "Bill Payer", email: uniqueEmail("billing"), password: "correct horse battery staple" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Billing" }).click();
  assert.equal((await page.getByTestId("current-tier").textContent()).trim(), "free");
  await page.getByText("No invoices yet").waitFor();
  await page.getByRole("radio", { name: "Yearly" }).check();
  await page.getByLabel("Currency", { exact: true }).selectOption("eur");
  const pro = page.getByRole("region", { name: "pro plan" });
  await pro.getByText("/ year").waitFor();
  await assertAccessible(page, "settings: billing");
  await screenshot(page, "billing");

  await pro.getByRole("button", { name: "Upgrade to pro" }).click();
  await page.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\//);
  const sessionId = page.url().split("/").pop();
  const paid = await fetch(`${CONTROL}/checkout/${sessionId}/complete`, { method: "POST" });
  assert.equal(paid.status, 204, await paid.text());

  // Stripe sends the customer back to the success URL the server gave it.
  await page.goto(`${BASE_URL}/billing?checkout=success&session_id=${sessionId}`);
  await page.waitForURL(/\/settings\/billing\?checkout=success/);
  await page.getByText("Thank you: your team is on the pro plan.").waitFor();
  assert.equal((await page.getByTestId("current-tier").textContent()).trim(), "pro");
  await page.getByText("yearly in EUR", { exact: true }).waitFor();
  await page.getByRole("table", { name: "Invoices" }).getByRole("row", { name: /paid/ }).waitFor();

  page.once("dialog", (d) => d.accept());
  await page.getByRole("region", { name: "free plan" }).getByRole("button", { name: "Downgrade to free" }).click();
  await page.getByText(/The plan changes to free/).waitFor();
  await page.getByRole("button", { name: "Keep my plan" }).click();
  await page.getByText(/The plan changes to free/).waitFor({ state: "detached" });

  await page.getByRole("button", { name: "Payment details and receipts" }).click();
  await page.waitForURL(/^https:\/\/billing\.stripe\.com\//);
  assert.equal(stripePages.length, 2);
  assert.deepEqual(errors, []);
});
