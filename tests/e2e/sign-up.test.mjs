// The plugin's sign-up page: the profile questions, the server's messages next to their fields, and a
// new account that lands signed in.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHAPTER, HALLPASS, PASSWORD, SITE, launch, newPage, screenshot, uniqueEmail } from "./lib.mjs";

test("the sign-up page asks the profile questions with friendly labels", async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);

  // The questions come from hallpass at run time, not from the site's build.
  const schema = page.waitForResponse((r) => r.url() === `${HALLPASS}/auth/profile-schema`);
  await page.goto(`${SITE}/sign-up`);
  assert.equal((await schema).status(), 200);

  const software = page.getByRole("group", { name: "Software background" });
  const hardware = page.getByRole("group", { name: "Hardware background" });
  for (const group of [software, hardware]) {
    for (const label of ["No experience", "Beginner", "Intermediate", "Advanced", "Prefer not to say"]) {
      await group.getByLabel(label, { exact: true }).waitFor();
    }
  }
  await page.getByLabel("Name").fill("Grace Builder");
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByLabel("Password").fill(PASSWORD);
  await software.getByLabel("Intermediate").check();
  await hardware.getByLabel("Beginner").check();
  await screenshot(page, "01-sign-up-page");
  assert.deepEqual(problems, []);
});

test("a bad email shows the server's message next to the email field", async (t) => {
  const browser = await launch(t);
  const { page } = await newPage(browser);
  await page.goto(`${SITE}/sign-up`);

  await page.getByLabel("Name").fill("Bad Email");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  const error = page.locator('[data-field="email"] [data-error-for="email"]');
  await error.waitFor();
  assert.match(await error.innerText(), /email/i);
  assert.equal(await page.getByLabel("Email").getAttribute("aria-invalid"), "true");
  // The message is tied to the field for screen readers, and focus moved there.
  const describedBy = await page.getByLabel("Email").getAttribute("aria-describedby");
  assert.ok(describedBy?.includes(await error.getAttribute("id")));
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "email");
  assert.equal(await page.locator('[data-error-for="password"]').count(), 0);
  await screenshot(page, "02-sign-up-bad-email");
});

test("a short password shows the server's message next to the password field", async (t) => {
  const browser = await launch(t);
  const { page } = await newPage(browser);
  await page.goto(`${SITE}/sign-up`);

  await page.getByLabel("Name").fill("Short Password");
  await page.getByLabel("Email").fill(uniqueEmail("short"));
  await page.getByLabel("Password").fill("abc");
  await page.getByRole("button", { name: "Create account" }).click();

  const error = page.locator('[data-field="password"] [data-error-for="password"]');
  await error.waitFor();
  assert.match(await error.innerText(), /password/i);
  assert.equal(await page.locator('[data-error-for="email"]').count(), 0);
  await screenshot(page, "03-sign-up-short-password");
});

test("signing up with backgrounds lands signed in on the page the reader came from", async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  await page.goto(`${SITE}${CHAPTER}`);
  await page.locator('[data-hallpass-nav="sign-in"]').click();
  await page.locator("main").getByRole("link", { name: "Create an account" }).click();
  await page.waitForURL(/\/sign-up\?redirect=/);

  await page.getByLabel("Name").fill("Linus Learner");
  await page.getByLabel("Email").fill(uniqueEmail("signup"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("group", { name: "Software background" }).getByLabel("Advanced").check();
  await page.getByRole("group", { name: "Hardware background" }).getByLabel("No experience").check();
  await page.getByRole("button", { name: "Create account" }).click();

  await page.waitForURL(`${SITE}${CHAPTER}`);
  const account = page.locator('[data-hallpass-nav="account"]');
  await account.waitFor();
  assert.match(await account.innerText(), /Linus Learner/);
  assert.deepEqual(problems, []);
});
