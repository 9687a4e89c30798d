// Settings an admin uses: webhook endpoints (secret shown once, test delivery in the log, rotation, edit, delete),
// the audit log with its filter, the per-user notification preferences and the SAML SSO configuration.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { assertAccessible, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

/** A real HTTP receiver on 127.0.0.1 that answers 200 and keeps what it got. */
async function receiver() {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => { got.push({ headers: req.headers, body }); res.writeHead(200, { "Content-Type": "text/plain" }); res.end("thanks"); });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/hooks/xinex`, got, close: () => server.close() };
}

test("webhook endpoints: create with the secret shown once, test delivery in the log, rotate, edit, delete; the audit log shows it", async () => {
  const hook = await receiver();
  const { page, errors } = await newPage(chrome.browser);
  try {
    await signUp(page, { name: "Wes Webhook", email: uniqueEmail("webhooks"), password: "correct horse battery staple" });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Webhooks" }).click();
    await page.getByText("No webhook endpoints yet").waitFor();
    await page.getByLabel("Endpoint URL", { exact: true }).fill(hook.url);
    await page.getByLabel("Description", { exact: true }).fill("our tracker");
    await page.getByLabel("incident.acknowledged", { exact: true }).check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.getByTestId("signing-secret").textContent()).trim();
    assert.match(secret, /^whsec_/);
    await page.getByRole("row", { name: new RegExp(`${hook.url}.*incident.acknowledged.*active`) }).waitFor();
    await assertAccessible(page, "settings: webhooks");
    await screenshot(page, "webhooks");

    await page.getByRole("link", { name: hook.url }).first().click();
    await page.getByText("No deliveries yet").waitFor();
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByText(/Test delivery succeeded \(HTTP 200\)/).waitFor();
    assert.equal(hook.got.length, 1);
    assert.ok(hook.got[0].headers["webhook-signature"]);
    const row = page.getByRole("table", { name: "Deliveries" }).getByRole("row", { name: /webhook\.test.*succeeded.*200/ });
    await row.waitFor();
    await row.getByRole("button", { name: /Show delivery/ }).click();
    await page.getByText("thanks", { exact: true }).waitFor();
    await assertAccessible(page, "settings: webhook detail");
    await screenshot(page, "webhook");

    await page.getByLabel("Keep the old secret valid for", { exact: true }).selectOption({ label: "1 hour" });
    await page.getByRole("button", { name: "Rotate secret" }).click();
    const rotated = (await page.getByTestId("signing-secret").textContent()).trim();
    assert.notEqual(rotated, secret);
    await page.getByText(/The previous one still signs deliveries until/).waitFor();

    await page.getByLabel("Description", { exact: true }).fill("our new tracker");
    await page.getByLabel("Enabled", { exact: true }).uncheck();
    await page.getByRole("button", { name: "Save endpoint" }).click();
    await page.getByText("Saved.").waitFor();

    page.once("dialog", (d) => d.accept());
    await page.getByRole("button", { name: "Delete endpoint" }).click();
    await page.getByText("No webhook endpoints yet").waitFor();

    // The audit log: every step above, filterable by action prefix.
    await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" }).click();
    const audit = page.getByRole("table", { name: "Audit events" });
    await audit.getByRole("row", { name: /webhook\.deleted/ }).waitFor();
    await page.getByLabel("Action starts with", { exact: true }).fill("webhook.");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.waitForURL(/action=webhook\./);
    await audit.getByRole("row", { name: /user\.registered/ }).waitFor({ state: "detached" });
    await audit.getByRole("row", { name: /webhook\.created/ }).waitFor();
    const actions = await audit.locator("tbody tr td:nth-child(3)").allTextContents();
    assert.ok(actions.length >= 3 && actions.every((a) => a.startsWith("webhook.")), actions.join(","));
    await assertAccessible(page, "settings: audit log");
    await screenshot(page, "audit-log");
    await page.getByLabel("Action starts with", { exact: true }).fill("no-such-action.");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.getByText("No events matching “no-such-action.”").waitFor();
    assert.deepEqual(errors, []);
  } finally {
    hook.close();
  }
});

test("notification preferences: media per urgency and quiet hours are saved per user", async () => {
  const { page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Nia Notify", email: uniqueEmail("prefs"), password: "correct horse battery staple" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Notifications" }).click();
  const warningMail = page.getByLabel("E-mail for warning", { exact: true });
  await warningMail.waitFor();
  await page.getByLabel("Mobile push for info", { exact: true }).check();
  await warningMail.setChecked(!(await warningMail.isChecked()));
  const wanted = await warningMail.isChecked();
  await page.getByLabel("Use quiet hours", { exact: true }).check();
  await page.getByLabel("From", { exact: true }).fill("23:00");
  await page.getByLabel("Until", { exact: true }).fill("06:30");
  await page.getByLabel("Time zone", { exact: true }).selectOption("Europe/Berlin");
  await page.getByRole("button", { name: "Save preferences" }).click();
  await page.getByText("Preferences saved.").waitFor();
  await assertAccessible(page, "settings: notification preferences");
  await screenshot(page, "notification-preferences");

  await page.reload();
  await page.getByLabel("Mobile push for info", { exact: true }).waitFor();
  assert.equal(await page.getByLabel("Mobile push for info", { exact: true }).isChecked(), true);
  assert.equal(await page.getByLabel("E-mail for warning", { exact: true }).isChecked(), wanted);
  assert.equal(await page.getByLabel("From", { exact: true }).inputValue(), "23:00");
  assert.equal(await page.getByLabel("Until", { exact: true }).inputValue(), "06:30");
  assert.equal(await page.getByLabel("Time zone", { exact: true }).inputValue(), "Europe/Berlin");
  assert.deepEqual(errors, []);
});

test("SSO: an admin fills the SAML configuration from the IdP's metadata, copies the ACS URL and saves", async () => {
  const pem = execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null",
    "-subj", "/CN=idp.e2e.test", "-days", "30"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const metadata = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.e2e.test/meta">
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
        <ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.e2e.test/sso"/>
    </md:IDPSSODescriptor></md:EntityDescriptor>`;
  const { page, errors } = await newPage(chrome.browser);
  await signUp(page, { name: "Sam Sso", email: uniqueEmail("sso"), password: "correct horse battery staple", team: "Acme SSO" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "SSO" }).click();
  await page.getByText("Single sign-on is not configured for this team.").waitFor();
  const acs = await page.getByLabel("ACS URL", { exact: true }).inputValue();
  assert.match(acs, /\/api\/v1\/sso\/[a-z0-9-]+\/acs$/);
  await page.getByRole("button", { name: "Copy ACS URL" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), acs);

  await page.getByText("Fill in from the IdP's metadata").click();
  await page.getByLabel("IdP metadata XML", { exact: true }).fill(metadata);
  await page.getByRole("button", { name: "Read metadata" }).click();
  await page.getByText(/Filled in the entity id/).waitFor();
  assert.equal(await page.getByLabel("IdP entity id", { exact: true }).inputValue(), "https://idp.e2e.test/meta");
  assert.equal(await page.getByLabel("IdP sign-in URL", { exact: true }).inputValue(), "https://idp.e2e.test/sso");
  await page.getByLabel("Allowed e-mail domains", { exact: true }).fill("example.com");
  await page.getByLabel("IdP sign-in URL", { exact: true }).fill("ftp://idp.e2e.test/sso");
  await page.getByRole("button", { name: "Save SSO configuration" }).click();
  await page.getByText(/must be an https:\/\/ URL/).waitFor();
  await page.getByLabel("IdP sign-in URL", { exact: true }).fill("https://idp.e2e.test/sso");
  await page.getByRole("button", { name: "Save SSO configuration" }).click();
  await page.getByText("SSO configuration saved.").waitFor();
  await page.getByText(/SSO is on\./).waitFor();
  await page.getByText(/Certificate CN=idp\.e2e\.test/).waitFor();
  assert.equal(await page.getByLabel("ACS URL", { exact: true }).inputValue(), acs);
  const test = page.getByRole("link", { name: "Test sign-in" });
  assert.match(await test.getAttribute("href"), /\/api\/v1\/sso\/login\?tenant=/);
  await assertAccessible(page, "settings: SSO");
  await screenshot(page, "sso");

  // Enforcing ends this password session too: the page warns first, and then it is back at the sign-in page.
  await page.getByLabel("Enforce SSO (members cannot sign in with a password)", { exact: true }).check();
  let warning = "";
  page.once("dialog", (d) => { warning = d.message(); d.accept(); });
  await page.getByRole("button", { name: "Save SSO configuration" }).click();
  await page.waitForURL(/\/login/);
  assert.match(warning, /yours included/);
  assert.deepEqual(errors, []);
});
