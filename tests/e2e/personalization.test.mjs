// A reader's journey on the example site: a chapter before and after signing in, after a profile
// change, with the "Personalize this chapter" control, and after signing out.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CHAPTER,
  SITE,
  TEXT,
  createUser,
  expectVersions,
  launch,
  newPage,
  screenshot,
  signInOnSite,
} from "./lib.mjs";

test("a chapter adapts to the reader's profile, follows its changes, and falls back when signed out", async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  const user = await createUser({
    name: "Ada Reader",
    software_background: "none",
    hardware_background: "beginner",
  });

  await t.test("signed out, the chapter shows the general edition", async () => {
    await page.goto(`${SITE}${CHAPTER}`);
    await expectVersions(page, {
      present: [TEXT.hwDefault, TEXT.swDefault],
      absent: [TEXT.hwBeginner, TEXT.swNone, TEXT.hwAdvanced],
    });
    await page.locator('[data-hallpass-nav="sign-in"]').waitFor();
    await screenshot(page, "04-chapter-signed-out");
  });

  await t.test("signed in on the site, the chapter is written for a beginner", async () => {
    await signInOnSite(page, user, CHAPTER);
    await expectVersions(page, {
      present: [TEXT.hwBeginner, TEXT.swNone],
      absent: [TEXT.hwDefault, TEXT.swDefault, TEXT.hwAdvanced, TEXT.swAdvanced],
    });
    assert.match(await page.locator('[data-hallpass-nav="account"]').innerText(), /Ada Reader/);
    await screenshot(page, "05-chapter-beginner");
  });

  await t.test("a full page load shows the reader's version too (server render, then the session)", async () => {
    await page.reload();
    await expectVersions(page, { present: [TEXT.hwBeginner, TEXT.swNone], absent: [TEXT.hwDefault] });
  });

  await t.test("after the profile changes, the chapter changes with it", async () => {
    const menu = page.locator('[data-hallpass-nav="account"]');
    await menu.locator("> button").click();
    await menu.getByRole("link", { name: "Profile" }).click();
    await page.waitForURL(`${SITE}/profile`);
    await page.getByRole("group", { name: "Software background" }).getByLabel("Advanced").check();
    await page.getByRole("group", { name: "Hardware background" }).getByLabel("Advanced").check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator("[data-hallpass-saved]").waitFor();
    await screenshot(page, "06-profile-saved");

    await page.goto(`${SITE}${CHAPTER}`);
    await expectVersions(page, {
      present: [TEXT.hwAdvanced, TEXT.swAdvanced],
      absent: [TEXT.hwBeginner, TEXT.swNone, TEXT.hwDefault],
    });
    await screenshot(page, "07-chapter-advanced");
  });

  await t.test("signing out from the navbar brings back the general edition", async () => {
    const menu = page.locator('[data-hallpass-nav="account"]');
    await menu.locator("> button").click();
    await menu.getByRole("button", { name: "Sign out" }).click();
    await page.locator('[data-hallpass-nav="sign-in"]').waitFor();
    await expectVersions(page, {
      present: [TEXT.hwDefault, TEXT.swDefault],
      absent: [TEXT.hwAdvanced, TEXT.swAdvanced],
    });
    await page.reload();
    await expectVersions(page, { present: [TEXT.hwDefault, TEXT.swDefault], absent: [TEXT.hwAdvanced] });
    await screenshot(page, "08-chapter-signed-out-again");
  });

  assert.deepEqual(problems, []);
});

test("'Personalize this chapter' overrides the profile for one chapter and remembers it", async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  const user = await createUser({
    name: "Chip Tinkerer",
    software_background: "beginner",
    hardware_background: "advanced",
  });
  await signInOnSite(page, user, CHAPTER);
  await expectVersions(page, { present: [TEXT.hwAdvanced, TEXT.swMiddle] });

  const bar = page.locator("[data-hallpass-personalize]");
  const software = bar.getByLabel("Software");
  assert.equal(await software.inputValue(), "");
  assert.match(await software.locator("option").first().innerText(), /My profile \(Beginner\)/);

  await t.test("picking a level changes the chapter at once", async () => {
    await software.selectOption("advanced");
    await bar.getByLabel("Hardware").selectOption("none");
    await expectVersions(page, {
      present: [TEXT.swAdvanced, TEXT.hwBeginner],
      absent: [TEXT.swMiddle, TEXT.hwAdvanced],
    });
    await screenshot(page, "09-personalize-this-chapter");
  });

  await t.test("the choice survives a reload", async () => {
    await page.reload();
    await expectVersions(page, { present: [TEXT.swAdvanced, TEXT.hwBeginner], absent: [TEXT.swMiddle] });
    assert.equal(await page.locator("[data-hallpass-personalize]").getByLabel("Software").inputValue(), "advanced");
  });

  await t.test("it is for this chapter only", async () => {
    await page.goto(`${SITE}/chapters/sensors`);
    const choice = await page.locator("[data-hallpass-personalize]").getByLabel("Software").inputValue();
    assert.equal(choice, "");
  });

  await t.test("'Use my profile' goes back to the profile's levels", async () => {
    await page.goto(`${SITE}${CHAPTER}`);
    await page.getByRole("button", { name: "Use my profile" }).click();
    await expectVersions(page, { present: [TEXT.hwAdvanced, TEXT.swMiddle], absent: [TEXT.swAdvanced] });
  });

  await t.test("signed-out readers can pick a level too", async () => {
    const guest = await newPage(browser);
    await guest.page.goto(`${SITE}${CHAPTER}`);
    await expectVersions(guest.page, { present: [TEXT.swDefault] });
    await guest.page.locator("[data-hallpass-personalize]").getByLabel("Software").selectOption("none");
    await expectVersions(guest.page, { present: [TEXT.swNone], absent: [TEXT.swDefault] });
    await guest.context.close();
  });

  assert.deepEqual(problems, []);
});
