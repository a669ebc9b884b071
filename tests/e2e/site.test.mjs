// The built site itself: what the server render holds, the sitemap, and the navbar on a phone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHAPTER, SITE, TEXT, createUser, launch, newPage, screenshot, signInOnSite } from "./lib.mjs";

test("the server-rendered chapter holds the general edition, hidden until the session is known", async () => {
  const html = await (await fetch(`${SITE}${CHAPTER}`)).text();
  assert.ok(html.includes(TEXT.hwDefault));
  assert.ok(!html.includes(TEXT.hwBeginner) && !html.includes(TEXT.hwAdvanced));
  assert.match(html, /data-hallpass-state="?pending/);
  assert.ok(html.includes("Personalize this chapter"));
});

test("the sitemap lists the chapters and leaves out the sign-in pages", async () => {
  const xml = await (await fetch(`${SITE}/sitemap.xml`)).text();
  assert.match(xml, /\/chapters\/microcontrollers</);
  for (const page of ["/sign-in", "/sign-up", "/profile"]) {
    assert.ok(!xml.includes(`${page}<`), `${page} is in the sitemap`);
  }
});

test("on a phone, the reader's menu is in the navbar's sidebar", async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser, { viewport: { width: 390, height: 844 } });
  const user = await createUser({ name: "Pocket Reader", software_background: "intermediate" });
  await signInOnSite(page, user, CHAPTER);
  const openMainMenu = async () => {
    await page.getByRole("button", { name: /toggle navigation bar/i }).click();
    // On a doc page the sidebar opens on the chapters; the navbar's items are one step back.
    await page.getByRole("button", { name: /back to main menu/i }).click();
  };
  await openMainMenu();
  const sidebar = page.locator(".navbar-sidebar");
  await sidebar.getByText("Pocket Reader").waitFor();
  await sidebar.getByRole("link", { name: "Profile" }).waitFor();
  await screenshot(page, "12-phone-menu", { fullPage: false });
  await sidebar.getByRole("button", { name: "Sign out" }).click();
  await page.locator('[data-hallpass-nav="sign-in"]').first().waitFor({ state: "attached" });
  if (!(await sidebar.isVisible())) await openMainMenu();
  await sidebar.getByRole("link", { name: "Sign in" }).waitFor();
  assert.deepEqual(problems, []);
});
