// An HTTP monitor against a real local server shows its checks; a webhook channel's "Send test" reaches a
// real local receiver.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { assertAccessible, explained, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
let target;
const received = [];
before(async () => {
  chrome = await launch();
  target = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("all good");
    });
  });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
});
after(async () => {
  await chrome?.close();
  target?.close();
});

test("an HTTP monitor checks a real server; a webhook channel's test reaches its receiver", async () => {
  const { page, errors } = await newPage(chrome.browser);
  const base = `http://127.0.0.1:${target.address().port}`;
  await explained(page, async () => {
  await signUp(page, { name: "Mo Monitor", email: uniqueEmail("monitor"), password: "correct horse battery staple" });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Monitors" }).click();
  await page.getByText("No monitors yet").waitFor();
  await page.getByRole("link", { name: "New monitor" }).click();
  await page.getByLabel("Name", { exact: true }).fill("website");
  await page.getByLabel("URL", { exact: true }).fill(`${base}/health`);
  await page.getByLabel("Keyword", { exact: true }).fill("good");
  await page.getByLabel("Check every (seconds)", { exact: true }).fill("10");
  await assertAccessible(page, "new monitor");
  await page.getByRole("button", { name: "Create monitor" }).click();
  await page.getByRole("heading", { name: "website" }).waitFor();
  // The first check runs and shows up (the page refetches every 30 s; reload to see it sooner).
  const deadline = Date.now() + 40_000;
  while (!(await page.getByRole("table", { name: "Recent checks" }).count()) && Date.now() < deadline) {
    await page.waitForTimeout(2000);
    await page.reload();
  }
  await page.getByRole("table", { name: "Recent checks" }).getByText("up").first().waitFor();
  assert.ok(received.some((r) => r.url === "/health"), "the monitor never reached the server");
  await assertAccessible(page, "monitor detail");
  await screenshot(page, "monitor");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Channels" }).click();
  await page.getByText("No channels yet").waitFor();
  await page.getByLabel("Kind", { exact: true }).selectOption("webhook");
  await page.getByLabel("Channel name", { exact: true }).fill("ops bridge");
  await page.getByLabel("Webhook URL", { exact: true }).fill(`${base}/hook`);
  await page.getByRole("button", { name: "Add channel" }).click();
  await page.getByRole("row", { name: /ops bridge.*Webhook.*yes/ }).waitFor();
  await page.getByRole("button", { name: "Send test to ops bridge" }).click();
  await page.getByRole("status").getByText(/Test to ops bridge/).waitFor();
  const hook = received.find((r) => r.url === "/hook");
  assert.ok(hook, "the test never reached the receiver");
  assert.equal(JSON.parse(hook.body).test, true);
  await assertAccessible(page, "channels");
  await screenshot(page, "channels");
  });
  assert.deepEqual(errors, []);
});
