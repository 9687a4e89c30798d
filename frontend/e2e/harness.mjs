// Browser tests' harness: Debian's Chromium driven by playwright-core (no browser download, ever), against
// the `xinex run` that tests/web/conftest.py started (BASE_URL) with its SMTP sink readable at MAILBOX_URL.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:8000";
export const MAILBOX_URL = process.env.MAILBOX_URL ?? "";
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? "";
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Chromium as the machine allows it: headless, no sandbox (root), nothing reaching out to the network.
 * Playwright gives every launch a fresh, empty --user-data-dir of its own (and removes it on close).
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return { browser, close: () => browser.close() };
}

/** A page in a fresh context; `options` may set a phone's viewport (`{ viewport: { width: 375, height: 812 }, isMobile: true }`). */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 1280, height: 860 }, ...options });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE_URL });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000); // generous: CI machines are shared and busy
  const errors = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  return { context, page, errors };
}

export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/** The newest e-mail to `to` whose subject matches, waiting for the app's mail job to send it. */
export async function waitForMail(to, subject, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${MAILBOX_URL}/messages?to=${encodeURIComponent(to)}`);
    const found = (await res.json()).filter((m) => subject.test(m.subject));
    if (found.length) return found[found.length - 1];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no e-mail to ${to} matching ${subject} within ${timeoutMs} ms`);
}

/** The first link into this server in an e-mail's text. */
export function linkIn(mail, path) {
  const match = mail.text.match(new RegExp(`${BASE_URL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path}\\S*`));
  if (!match) throw new Error(`no ${path} link in: ${mail.text}`);
  return match[0];
}

/** axe-core in the page: no serious or critical accessibility violation. */
export async function assertAccessible(page, name) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => await window.axe.run(document, {
    resultTypes: ["violations"],
  }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    throw new Error(`axe found ${bad.length} serious violation(s) on ${name}:\n${lines.join("\n")}`);
  }
}

export async function screenshot(page, name) {
  if (!ARTIFACTS) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Sign up through the pages and follow the e-mail's link: a signed-in page on the overview. */
export async function signUp(page, { name, email, password, team }) {
  await page.goto("/signup");
  await page.getByLabel("Your name", { exact: true }).fill(name);
  await page.getByLabel("E-mail", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  if (team) await page.getByLabel("Team name", { exact: true }).fill(team);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
  const mail = await waitForMail(email, /Finish creating/);
  await page.goto(linkIn(mail, "/register/confirm"));
  await page.getByRole("heading", { name: "Overview" }).waitFor();
}

/** Calls the API as the signed-in browser (its cookie, and the CSRF header mutations need). */
export async function apiCall(context, method, path, data) {
  const csrf = (await context.cookies(BASE_URL)).find((c) => c.name === "xinex_csrf")?.value ?? "";
  const res = await context.request.fetch(`${BASE_URL}${path}`, {
    method, data, headers: { "X-CSRF-Token": csrf },
  });
  if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
  return res.status() === 204 ? null : await res.json();
}

/** Runs `steps`; on failure the error also says where the page was and what it showed (and keeps a screenshot). */
export async function explained(page, steps) {
  try {
    await steps();
  } catch (err) {
    let text = "";
    try {
      text = (await page.locator("body").innerText()).slice(0, 3000);
      await screenshot(page, "failure");
    } catch { /* the page is gone */ }
    throw new Error(`${err.message}\n--- at ${page.url()} the page showed:\n${text}`, { cause: err });
  }
}
