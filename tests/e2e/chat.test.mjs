// The chat box on a chapter page: the question goes to the chatbot backend with the reader's JWT, and
// the answer is pitched at the reader's level.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHATBOT, CHAPTER, SITE, createUser, launch, newPage, screenshot, signInOnSite } from "./lib.mjs";

const skip = CHATBOT ? false : "no chatbot backend running (examples/chatbot-backend not found)";

test("signed-out readers are asked to sign in before chatting", async (t) => {
  const browser = await launch(t);
  const { page } = await newPage(browser);
  await page.goto(`${SITE}${CHAPTER}`);
  const box = page.locator("[data-hallpass-chat]");
  await box.getByRole("link", { name: "Sign in" }).waitFor();
  assert.equal(await box.locator("textarea").count(), 0);
});

/** Signs in a new reader with these levels, asks the chapter's chat box, and returns the answer box. */
async function ask(browser, name, levels, question) {
  const { page, problems } = await newPage(browser);
  await signInOnSite(page, await createUser({ name, ...levels }), CHAPTER);
  const box = page.locator("[data-hallpass-chat]");
  await box.getByLabel("Your question").fill(question);
  await box.getByRole("button", { name: "Ask" }).click();
  const answer = box.locator("[data-hallpass-answer]");
  await answer.waitFor({ timeout: 60_000 });
  return { page, problems, text: await answer.innerText() };
}

test("the chat box answers a question for the reader's level", { skip }, async (t) => {
  const browser = await launch(t);

  const beginner = await ask(
    browser,
    "Nova Beginner",
    { software_background: "beginner", hardware_background: "none" },
    "How do I write a loop in my program?",
  );
  // The backend read the reader's levels from the JWT: the answer is pitched at them, and says so.
  assert.match(beginner.text, /Hi Nova Beginner!/);
  assert.match(beginner.text, /at the beginner level/);
  assert.match(beginner.text, /Answered for Software: Beginner · Hardware: No experience/);
  await screenshot(beginner.page, "10-chat-answer-beginner");
  assert.deepEqual(beginner.problems, []);

  const expert = await ask(
    browser,
    "Max Expert",
    { software_background: "advanced", hardware_background: "advanced" },
    "How do I write a loop in my program?",
  );
  assert.match(expert.text, /at the advanced level/);
  assert.doesNotMatch(expert.text, /beginner level/);
  assert.match(expert.text, /Answered for Software: Advanced · Hardware: Advanced/);
  await screenshot(expert.page, "11-chat-answer-advanced");
});
