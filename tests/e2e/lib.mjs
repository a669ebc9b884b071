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
//   HALLPASS_OUTBOX  the folder where hallpass writes its mail without SMTP (.eml files); ./run
//                  sets it (beside the database); mailTo needs it
//   HALLPASS_BIN   the hallpass binary, for tests that start a hallpass of their own (startHallpass)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));

export const SITE = (process.env.SITE_URL || "http://localhost:3000").replace(/\/+$/, "");
export const HALLPASS = (process.env.HALLPASS_URL || "http://localhost:4000").replace(/\/+$/, "");
export const CHATBOT = (process.env.CHATBOT_URL ?? "").replace(/\/+$/, "");
export const ARTIFACTS = process.env.ARTIFACTS || path.join(here, "artifacts");
export const PASSWORD = "correct horse battery";
export const OUTBOX = process.env.HALLPASS_OUTBOX || "";

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

// ---- mail: the .eml files hallpass writes without SMTP ------------------------------------------

/** Quoted-printable (RFC 2045) to text: soft line breaks joined, runs of `=XX` bytes read as UTF-8. */
export function decodeQuotedPrintable(text) {
  return text
    .replace(/=\r?\n/g, "")
    .replace(/(?:=[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/=/g, ""), "hex").toString("utf8"));
}

/** The headers of a message or MIME part (names lower-cased, folded lines joined) and its body. */
function splitMessage(raw) {
  const text = raw.replace(/\r\n/g, "\n");
  const end = text.indexOf("\n\n");
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? "" : text.slice(end + 2);
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(headers, body) {
  const encoding = (headers["content-transfer-encoding"] || "").toLowerCase();
  if (encoding === "quoted-printable") return decodeQuotedPrintable(body);
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  return body;
}

/**
 * A message as {file, to, subject, text, html, link}: its text/plain and text/html parts decoded
 * (quoted-printable or base64), and the first link of the text.
 */
export function parseEml(file) {
  const { headers, body } = splitMessage(readFileSync(file, "utf8"));
  const parts = { "text/plain": "", "text/html": "" };
  const boundary = /boundary="?([^";]+)"?/i.exec(headers["content-type"] || "")?.[1];
  if (boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith("--")) break;
      const part = splitMessage(chunk.replace(/^\r?\n/, ""));
      const type = (part.headers["content-type"] || "text/plain").split(";")[0].trim().toLowerCase();
      if (type in parts && !parts[type]) parts[type] = decodeBody(part.headers, part.body);
    }
  } else {
    parts["text/plain"] = decodeBody(headers, body);
  }
  const text = parts["text/plain"] || parts["text/html"].replace(/<[^>]+>/g, " ");
  const link = /https?:\/\/[^\s"<>]+/.exec(text)?.[0] ?? null;
  return { file, to: headers.to || "", subject: headers.subject || "", text, html: parts["text/html"], link };
}

/**
 * Waits (up to `timeout` ms) for the newest message in `outbox` to `address` whose subject contains
 * `subject`, written at or after `since` (a Date.now() value), and returns it parsed (see parseEml).
 */
export async function mailTo(address, { subject = "", since = 0, outbox = OUTBOX, timeout = 10_000 } = {}) {
  assert.ok(outbox, "HALLPASS_OUTBOX is not set: run the tests with ./run, which sets it");
  const wanted = address.toLowerCase();
  const deadline = Date.now() + timeout;
  for (;;) {
    let names = [];
    try {
      names = readdirSync(outbox).filter((n) => n.endsWith(".eml")).sort().reverse();
    } catch (error) {
      if (error.code !== "ENOENT") throw error;
    }
    for (const name of names) {
      const file = path.join(outbox, name);
      // The file's name starts with its time to the millisecond; mtime is the same moment.
      if (statSync(file).mtimeMs < since - 1000) continue;
      const mail = parseEml(file);
      if (mail.to.toLowerCase().includes(wanted) && mail.subject.includes(subject)) return mail;
    }
    if (Date.now() > deadline) {
      assert.fail(`no mail to ${address} about "${subject}" in ${outbox} (${names.length} messages there)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- a hallpass of a test's own ---------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts another hallpass (HALLPASS_BIN) on a free port with a fresh SQLite database and `env` on
 * top (e.g. HALLPASS_REQUIRE_EMAIL_VERIFICATION=1); `t.after` stops it and removes its folder.
 * Returns {url, outbox}. Its log is printed when it fails to start.
 */
export async function startHallpass(t, env = {}) {
  const bin = process.env.HALLPASS_BIN;
  assert.ok(bin, "HALLPASS_BIN is not set: run the tests with ./run");
  const dir = mkdtempSync(path.join(os.tmpdir(), "hallpass-e2e-own-"));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const outbox = path.join(dir, "outbox");
  let log = "";
  const child = spawn(bin, ["serve"], {
    env: {
      ...process.env,
      HALLPASS_LISTEN: `127.0.0.1:${port}`,
      HALLPASS_BASE_URL: url,
      HALLPASS_SECRET: "e2e-own-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
      HALLPASS_TRUSTED_ORIGINS: SITE,
      DATABASE_URL: `sqlite://${path.join(dir, "hallpass.db")}`,
      HALLPASS_OUTBOX: outbox,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => { log += chunk; });
  child.stderr.on("data", (chunk) => { log += chunk; });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  t.after(async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`hallpass exited (${child.exitCode}):\n${log}`);
    const ok = await fetch(`${url}/api/auth/ok`).then((r) => r.ok, () => false);
    if (ok) return { url, outbox };
    if (Date.now() > deadline) assert.fail(`hallpass did not answer at ${url} within 60 s:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
