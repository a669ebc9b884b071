// Shared helpers for the browser tests: where everything runs, a headless Chromium, users made through
// the API, and screenshots saved as artifacts. ./run sets the environment; the defaults suit a site,
// hallpass and chatbot started by hand on their usual ports.
//
// Environment:
//   SITE_URL       the built example site (default http://localhost:3000)
//   HALLPASS_URL   hallpass root (default http://localhost:4000)
//   CHATBOT_URL    the chatbot backend; empty when it is not running (its tests are skipped)
//   ARTIFACTS      where screenshots go (default ./artifacts)
//   CHROMIUM_PATH  the browser (default /usr/bin/chromium, Debian's package)
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));

export const SITE = (process.env.SITE_URL || "http://localhost:3000").replace(/\/+$/, "");
export const HALLPASS = (process.env.HALLPASS_URL || "http://localhost:4000").replace(/\/+$/, "");
export const CHATBOT = (process.env.CHATBOT_URL ?? "").replace(/\/+$/, "");
export const ARTIFACTS = process.env.ARTIFACTS || path.join(here, "artifacts");
export const PASSWORD = "correct horse battery";

/** Chapter paths of the example site, and sentences that only one version of a passage contains. */
export const CHAPTER = "/chapters/microcontrollers";
export const TEXT = {
  // "What a microcontroller is": by hardware level.
  hwDefault: "A microcontroller is a small computer on a single chip",
  hwBeginner: "Think of a microcontroller as a tiny computer",
  hwAdvanced: "memory-mapped peripherals",
  // "Your first program": by software level.
  swDefault: "setup runs once at power-on",
  swNone: "A program is a list of instructions the chip follows in order",
  swMiddle: "delay blocks the whole program",
  swAdvanced: "Skipping the Arduino layer",
};

mkdirSync(ARTIFACTS, { recursive: true });

/** Launches headless Chromium; `t.after` closes it. */
export async function launch(t) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  t.after(() => browser.close());
  return browser;
}

/**
 * A fresh browser context (its own cookies and localStorage) and a page in it. Page errors and React's
 * hydration complaints are collected in `problems`, so a test can assert the page rendered cleanly.
 */
export async function newPage(browser, { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" && /hydrat|Minified React error|did not match/i.test(text)) {
      problems.push(`console: ${text}`);
    }
  });
  return { context, page, problems };
}

/** Saves a screenshot (of the whole page unless `fullPage: false`) as ARTIFACTS/NAME.png. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  // From the top: a full-page shot of a scrolled page paints the sticky navbar mid-page.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage });
  return file;
}

let counter = 0;
/** A fresh address on every call, so tests are independent and reruns need no cleanup. */
export function uniqueEmail(tag = "reader") {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${process.pid}-${counter}@example.com`;
}

/** Creates a user through the Better Auth API (as the site's origin would). */
export async function createUser({ name = "Ada Reader", email = uniqueEmail(), ...profile } = {}) {
  const response = await fetch(`${HALLPASS}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: SITE },
    body: JSON.stringify({ name, email, password: PASSWORD, ...profile }),
  });
  assert.equal(response.status, 200, `sign-up failed: ${response.status} ${await response.text()}`);
  return { name, email, password: PASSWORD };
}

/** Signs in through the site's own sign-in page, coming back to `from`. */
export async function signInOnSite(page, user, from = CHAPTER) {
  await page.goto(`${SITE}/sign-in?redirect=${encodeURIComponent(from)}`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${SITE}${from}`);
  // Attached, not visible: on a phone the navbar item lives in the (closed) sidebar.
  await page.locator('[data-hallpass-nav="account"]').waitFor({ state: "attached" });
}

/** The text of every personalized block on the page once the session is known. */
export async function personalizedText(page) {
  await page.locator('[data-hallpass-state="pending"]').first().waitFor({ state: "detached" });
  return (await page.locator(".hallpass-block").allInnerTexts()).join("\n");
}

/** Waits until the page's personalized blocks contain `present` and none of `absent`. */
export async function expectVersions(page, { present = [], absent = [] }) {
  const deadline = Date.now() + 10_000;
  let text = "";
  for (;;) {
    text = await personalizedText(page);
    const ok = present.every((s) => text.includes(s)) && absent.every((s) => !text.includes(s));
    if (ok) return text;
    if (Date.now() > deadline) break;
    await page.waitForTimeout(100);
  }
  for (const s of present) assert.ok(text.includes(s), `expected to see "${s}" in:\n${text}`);
  for (const s of absent) assert.ok(!text.includes(s), `expected not to see "${s}" in:\n${text}`);
  return text;
}
