// A phone (375×812): the navigation is a menu behind a button, no main page is wider than the screen. The
// overview with many items is virtualised and shows uptime and sparklines; a ping changes a heartbeat's
// status on the overview and its ping log without reload (the WebSocket feed).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiCall, assertAccessible, BASE_URL, explained, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };
const MAIN_PAGES = ["/", "/heartbeats", "/heartbeats/new", "/monitors", "/monitors/new", "/incidents", "/oncall",
  "/channels", "/explore", "/notifications", "/settings/team", "/settings/tokens", "/settings/profile"];

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

/** How far the page is wider than the window (0: no horizontal overflow). */
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

test("on a phone the menu toggles and no main page overflows; the overview is live and virtualised", async () => {
  const { context, page, errors } = await newPage(chrome.browser, PHONE);
  await explained(page, async () => {
    await signUp(page, { name: "Pat Phone", email: uniqueEmail("phone"), password: "correct horse battery staple" });

    // The menu: closed, opens with its button (aria-expanded), and closes again after a page is chosen.
    const menu = page.getByRole("button", { name: "Menu" });
    const nav = page.getByRole("navigation", { name: "Main" });
    assert.equal(await menu.getAttribute("aria-expanded"), "false");
    assert.equal(await nav.isVisible(), false, "the navigation is open before the menu button was pressed");
    await menu.click();
    assert.equal(await menu.getAttribute("aria-expanded"), "true");
    await nav.getByRole("link", { name: "Heartbeats" }).click();
    await page.getByRole("heading", { name: "Heartbeats", exact: true }).waitFor();
    assert.equal(await menu.getAttribute("aria-expanded"), "false");
    assert.equal(await nav.isVisible(), false);

    // Items with long names and URLs, enough for the overview to virtualise.
    const hb = await apiCall(context, "POST", "/api/v1/heartbeats",
      { name: "a-nightly-database-backup-with-a-very-long-name-that-does-not-fit-on-a-phone", interval: 3600 });
    await apiCall(context, "POST", "/api/v1/monitors", { name: "checkout api", type: "http", interval: 300, paused: true,
      url: "https://shop.example.com/a/very/long/path/that/would/widen/the/page/on/a/small/screen?with=query" });
    for (let i = 0; i < 60; i++) await apiCall(context, "POST", "/api/v1/heartbeats", { name: `job ${String(i).padStart(2, "0")}`, interval: 3600 });

    for (const path of [...MAIN_PAGES, `/heartbeats/${hb.id}`, `/heartbeats/${hb.id}/edit`]) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      await page.waitForLoadState("networkidle");
      assert.ok(await overflow(page) <= 0, `${path} is ${await overflow(page)} px wider than a 375 px screen`);
    }
    await page.goto(`/heartbeats/${hb.id}`);
    await page.getByTestId("ping-url").waitFor();
    await screenshot(page, "phone-heartbeat");

    // The overview: every item counted, only the rows in view drawn, each with its uptime; scrolling draws the rest.
    await page.goto("/");
    const table = page.getByRole("table", { name: /Monitors and heartbeats/ });
    await table.waitFor();
    assert.equal(await table.getAttribute("aria-rowcount"), "63"); // 62 items + the header row
    const drawn = await table.locator("tbody tr[aria-rowindex]").count();
    assert.ok(drawn > 0 && drawn < 62, `${drawn} rows in the DOM: the list is not virtualised`);
    await page.getByRole("row", { name: /a-nightly-database-backup.*new.*100 %/ }).waitFor();
    assert.equal(await page.getByRole("row", { name: /checkout api/ }).count(), 0, "the last row is drawn before scrolling");
    // The worst first: the paused monitor is last, drawn once scrolled into view.
    await page.getByRole("region", { name: /Monitors and heartbeats, scrollable/ }).evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.getByRole("row", { name: /checkout api.*paused.*100 %/ }).waitFor();
    assert.ok(await overflow(page) <= 0, "the overview is wider than the screen");
    // Its columns fit the phone too (no sideways scrolling inside the list), the name column included.
    const fit = await page.getByRole("region", { name: /Monitors and heartbeats, scrollable/ })
      .evaluate((el) => ({ over: el.scrollWidth - el.clientWidth, name: el.querySelector("thead th").getBoundingClientRect().width }));
    assert.ok(fit.over <= 0 && fit.name >= 60, `the overview's columns do not fit: ${JSON.stringify(fit)}`);
    await assertAccessible(page, "overview on a phone");
    await screenshot(page, "phone-overview");
    await page.getByRole("button", { name: "Menu" }).click();
    await assertAccessible(page, "menu open on a phone");
    await screenshot(page, "phone-menu");
  });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a ping shows on the overview and in the ping log without reload", async () => {
  const { context, page, errors } = await newPage(chrome.browser);
  await explained(page, async () => {
    await signUp(page, { name: "Lee Live", email: uniqueEmail("live"), password: "correct horse battery staple" });
    const hb = await apiCall(context, "POST", "/api/v1/heartbeats", { name: "live job", interval: 3600 });
    await page.reload();
    await page.getByRole("row", { name: /live job.*new/ }).waitFor();
    await page.locator(".live-dot[data-state=open]").waitFor();
    await page.evaluate(() => { window.__sameDocument = true; });
    // The list refetches only every 30 s: within 5 s the change can only have come over the socket.
    const ping = await fetch(hb.ping_url.replace(/^https?:\/\/[^/]+/, BASE_URL));
    assert.equal(ping.status, 200);
    await page.getByRole("row", { name: /live job.*up/ }).waitFor({ timeout: 5_000 });

    await page.getByRole("link", { name: "live job" }).click();
    await page.getByRole("heading", { name: "live job" }).waitFor();
    await page.getByRole("table", { name: "Ping log" }).getByText("success").first().waitFor();
    const before = await page.getByRole("table", { name: "Ping log" }).locator("tbody tr").count();
    await fetch(hb.ping_url.replace(/^https?:\/\/[^/]+/, BASE_URL) + "/fail");
    await page.locator(".page-head .badge", { hasText: "down" }).waitFor({ timeout: 5_000 });
    await page.waitForFunction((n) => document.querySelectorAll("main table tbody tr").length > n, before, { timeout: 5_000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was reloaded");
  });
  assert.deepEqual(errors, []);
  await context.close();
});
