// Edit a monitor (every option of its type, and a change of type) and see the change on its page; an AI
// heartbeat's page shows where its budgets stand and the runs the agent reported.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiCall, assertAccessible, explained, launch, newPage, screenshot, signUp, uniqueEmail } from "./harness.mjs";

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test("edit a monitor's options and type; an AI heartbeat's budgets and runs", async () => {
  const { context, page, errors } = await newPage(chrome.browser);
  await explained(page, async () => {
    await signUp(page, { name: "Eve Editor", email: uniqueEmail("edit"), password: "correct horse battery staple" });
    const m = await apiCall(context, "POST", "/api/v1/monitors", { name: "shop", type: "http", url: "https://shop.example.com/health",
      interval: 300, paused: true, headers: { Authorization: "Bearer s3cret", "X-Env": "prod" } });

    await page.goto(`/monitors/${m.id}`);
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByRole("heading", { name: "Edit monitor" }).waitFor();
    const headers = page.getByLabel("Request headers", { exact: true });
    assert.match(await headers.inputValue(), /Authorization: \*+/); // the secret never reaches the page
    assert.doesNotMatch(await headers.inputValue(), /s3cret/);
    await page.getByLabel("Method", { exact: true }).selectOption("HEAD");
    await page.getByLabel("Expected status codes", { exact: true }).fill("200, 3xx");
    await page.getByLabel("Keyword", { exact: true }).fill("maintenance");
    await page.getByLabel("Alert when the keyword is present instead").check();
    await page.getByLabel("Failures before down", { exact: true }).fill("3");
    await page.getByLabel("Slow above (ms)", { exact: true }).fill("800");
    await page.getByLabel("Tags", { exact: true }).fill("shop, web");
    await assertAccessible(page, "edit monitor");
    await screenshot(page, "monitor-edit");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "shop" }).waitFor();
    let saved = await apiCall(context, "GET", `/api/v1/monitors/${m.id}`);
    assert.equal(saved.method, "HEAD");
    assert.deepEqual(saved.expected_status, [200, "3xx"]);
    assert.equal(saved.keyword, "maintenance");
    assert.equal(saved.keyword_absent, true);
    assert.equal(saved.confirmation_period, 3);
    assert.equal(saved.latency_threshold_ms, 800);
    assert.deepEqual(saved.tags, ["shop", "web"]);

    // A bad value is refused with the field named; clearing an optional field clears it.
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByLabel("Failures before down", { exact: true }).fill("99");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("alert").first().waitFor();
    await page.getByLabel("Failures before down", { exact: true }).fill("2");
    await page.getByLabel("Keyword", { exact: true }).fill("");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "shop" }).waitFor();
    saved = await apiCall(context, "GET", `/api/v1/monitors/${m.id}`);
    assert.equal(saved.keyword ?? null, null);
    assert.equal(saved.confirmation_period, 2);

    // Another type: the page asks for that type's fields.
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByLabel("Type", { exact: true }).selectOption("dns");
    await page.getByLabel("Hostname", { exact: true }).fill("example.com");
    await page.getByLabel("Record type", { exact: true }).selectOption("MX");
    await page.getByLabel("Nameserver", { exact: true }).fill("127.0.0.1");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "shop" }).waitFor();
    saved = await apiCall(context, "GET", `/api/v1/monitors/${m.id}`);
    assert.equal(saved.type, "dns");
    assert.equal(saved.record_type, "MX");
    assert.equal(saved.url, undefined);

    // An AI heartbeat with budgets and two reported runs, one over the cost per run.
    const ai = await apiCall(context, "POST", "/api/v1/ai-heartbeats", { name: "support agent", interval: 3600,
      budgets: { max_cost_per_run_usd: 0.05, max_failure_rate: 0.5 }, tags: ["llm"] });
    for (const [run, cost, outcome] of [["run-1", 0.01, "success"], ["run-2", 0.2, "failure"]]) {
      await apiCall(context, "POST", `/api/v1/ai-heartbeats/${ai.id}/run`, { event: "start", run_id: run });
      await apiCall(context, "POST", `/api/v1/ai-heartbeats/${ai.id}/run`, { event: "end", run_id: run, outcome,
        model: "gpt-4o", input_tokens: 1200, output_tokens: 350, cost_usd: cost, latency_ms: 2400 });
    }
    await page.goto("/");
    await page.getByRole("link", { name: "support agent" }).click();
    await page.getByRole("heading", { name: "support agent" }).waitFor();
    await page.getByRole("table", { name: /Runs/ }).getByText("run-2").waitFor();
    await page.getByRole("table", { name: /Runs/ }).getByText("run-1").waitFor();
    await page.getByText("Over budget: cost per run usd").waitFor();
    await page.getByText("at most $0.05").waitFor();
    await page.getByRole("region", { name: "Where the budgets stand" }).getByText("Failure rate (1 failed)").waitFor();
    await assertAccessible(page, "AI heartbeat");
    await screenshot(page, "ai-heartbeat");

    await page.goto("/ai-heartbeats/not-a-uuid");
    await page.getByRole("heading", { name: "AI heartbeat not found" }).waitFor();
  });
  assert.deepEqual(errors, []);
  await context.close();
});
