// Drives the evaluator's console in Debian's Chromium with playwright-core (no browser
// download): pages the gallery, labels two sources, reloads, checks the labels and
// metrics, and saves a screenshot. Run by tests/evaluator/console.rs, which passes:
// CONSOLE_URL, CONSOLE_TOKEN, CHROMIUM, SCREENSHOT, USER_DATA_DIR (and NODE_PATH).
"use strict";
const { chromium } = require("playwright-core");
const assert = require("node:assert/strict");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function cardIds(page) {
  return page.$$eval("#gallery .card", (cards) => cards.map((c) => c.dataset.sourceId));
}

async function metric(page, name) {
  return page.textContent(`#metrics dd[data-metric="${name}"]`);
}

async function waitForText(page, selector, expected) {
  await page.waitForFunction(
    ([s, e]) => document.querySelector(s)?.textContent === e,
    [selector, expected],
    { timeout: 10000 },
  );
}

async function main() {
  const context = await chromium.launchPersistentContext(env("USER_DATA_DIR"), {
    executablePath: env("CHROMIUM"),
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] || (await context.newPage());
  const failures = [];
  page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // A reload cancels what was in flight; that is not a failure of the console.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") failures.push(`request failed: ${r.url()}`);
  });
  const origin = new URL(env("CONSOLE_URL")).origin;
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) failures.push(`external request: ${r.url()}`);
  });
  try {
    await page.goto(env("CONSOLE_URL"));
    await waitForText(page, "#page-info", "1–24 of 30");
    const first = await cardIds(page);
    assert.equal(first.length, 24);

    // Paging shows the other sources.
    await page.click("#next");
    await waitForText(page, "#page-info", "25–30 of 30");
    const second = await cardIds(page);
    assert.equal(second.length, 6);
    assert.ok(second.every((id) => !first.includes(id)), "page 2 repeats page 1");
    await page.click("#prev");
    await waitForText(page, "#page-info", "1–24 of 30");
    assert.deepEqual(await cardIds(page), first);

    // Label: typical for the least anomalous on the page, exotic for the most.
    await page.fill("#labeller", "console-test");
    await page.dispatchEvent("#labeller", "change");
    await page.fill("#token", env("CONSOLE_TOKEN"));
    await page.dispatchEvent("#token", "change");
    assert.equal(await metric(page, "sources_labelled"), "0");
    assert.equal(await metric(page, "auc"), "–");
    const top = `#gallery .card[data-source-id="${first[0]}"]`;
    const low = `#gallery .card[data-source-id="${first[23]}"]`;
    await page.click(`${low} button[data-label="typical"]`);
    await waitForText(page, '#metrics dd[data-metric="sources_labelled"]', "1");
    await page.click(`${top} button[data-label="exotic"]`);
    await waitForText(page, '#metrics dd[data-metric="sources_labelled"]', "2");
    assert.equal(await metric(page, "exotic_labelled"), "1");
    assert.equal(await metric(page, "auc"), "1.000");

    // A reload shows what the server kept.
    await page.reload();
    await waitForText(page, "#page-info", "1–24 of 30");
    await waitForText(page, `${top} .label`, "exotic");
    assert.equal(await page.textContent(`${top} .labeller`), "by console-test");
    assert.equal(await page.getAttribute(top, "data-label"), "exotic");
    await waitForText(page, '#metrics dd[data-metric="sources_labelled"]', "2");
    assert.equal(await metric(page, "auc"), "1.000");
    // The thumbnails are drawn (the browser decoded the PNGs).
    await page.waitForFunction(
      (s) => [...document.querySelectorAll(`${s} img`)].every((i) => i.complete && i.naturalWidth === 16),
      top,
      { timeout: 10000 },
    );

    await page.screenshot({ path: env("SCREENSHOT") });
    assert.deepEqual(failures, []);
  } finally {
    await context.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
