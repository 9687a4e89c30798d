// `make bench` (bench/webapp.py): load times of the web app in Debian's Chromium against a running xinex.
// Prints one JSON line. Not a test (no *.e2e.mjs name): timings belong in the benchmark report.
import { launch, BASE_URL } from "./harness.mjs";

const EMAIL = process.env.BENCH_EMAIL;
const PASSWORD = process.env.BENCH_PASSWORD;
const ROWS = Number(process.env.BENCH_ROWS ?? "1000");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");

/** The overview holds `n` items and draws the ones in view (at least the first screenful, or all of a short list). */
function drawn(n) {
  const table = document.querySelector("main table[aria-rowcount]");
  if (!table || Number(table.getAttribute("aria-rowcount")) < n + 1) return false;
  return document.querySelectorAll("main tbody tr[aria-rowindex]").length >= Math.min(n, 10);
}

const chrome = await launch();
const out = { first_page_ms: [], overview_ms: [], overview_render_ms: [], rows: ROWS };
try {
  // A first visit (empty cache, new profile context): navigation start → the sign-in form usable.
  for (let i = 0; i < RUNS + 1; i++) {
    const context = await chrome.browser.newContext({ baseURL: BASE_URL });
    const page = await context.newPage();
    await page.goto("/login");
    const button = page.getByRole("button", { name: "Sign in", exact: true });
    await button.waitFor();
    await page.waitForFunction(() => !document.querySelector("button[type=submit]")?.disabled);
    const ms = await page.evaluate(() => performance.now());
    if (i > 0) out.first_page_ms.push(ms); // the first one warms the server up
    await context.close();
  }
  // Signed in with ROWS heartbeats: navigation start → the overview drawn: the table holds all ROWS items
  // (aria-rowcount) and the rows in view are on screen (the list is virtualised: rows further down are drawn
  // as they scroll into view). The app's bundle from cache, the items from one API request.
  const context = await chrome.browser.newContext({ baseURL: BASE_URL });
  const login = await context.request.post(`${BASE_URL}/api/v1/auth/login`, { data: { email: EMAIL, password: PASSWORD } });
  if (!login.ok()) throw new Error(`login: ${login.status()} ${await login.text()}`);
  const page = await context.newPage();
  for (let i = 0; i < RUNS + 1; i++) {
    await page.goto("/");
    await page.waitForFunction(drawn, ROWS, { timeout: 60_000 });
    const ms = await page.evaluate(() => performance.now());
    if (i > 0) out.overview_ms.push(ms); // the first load fills the HTTP cache
  }
  // The same page with the API's answers served from memory (recorded from the real server): what the
  // browser itself spends to draw 1,000 rows, without the server's latency.
  const recorded = new Map();
  page.on("response", async (res) => {
    if (res.url().includes("/api/v1/") && res.request().method() === "GET" && res.ok()) {
      try { recorded.set(res.url(), await res.body()); } catch { /* a redirect or a socket */ }
    }
  });
  await page.goto("/");
  await page.waitForFunction(drawn, ROWS, { timeout: 60_000 });
  await page.waitForLoadState("networkidle");
  await page.route("**/api/v1/**", async (route) => {
    const body = recorded.get(route.request().url());
    if (body && route.request().method() === "GET") await route.fulfill({ status: 200, contentType: "application/json", body });
    else await route.continue();
  });
  for (let i = 0; i < RUNS; i++) {
    await page.goto("/");
    await page.waitForFunction(drawn, ROWS, { timeout: 60_000 });
    out.overview_render_ms.push(await page.evaluate(() => performance.now()));
  }
  await context.close();
} finally {
  await chrome.close();
}
console.log(JSON.stringify(out));
