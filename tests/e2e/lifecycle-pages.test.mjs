// The account lifecycle on hallpass's built-in pages, in a browser: a forgotten password reset with
// the mailed link, a change of address confirmed from the new inbox, a verification asked for from
// the profile, the deletion of an account, and sign-up and sign-in when addresses must be verified
// first. Mail is read from the outbox folder the server writes to without SMTP (lib.mjs: mailTo).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HALLPASS,
  OUTBOX,
  PASSWORD,
  createUser,
  launch,
  mailTo,
  newPage,
  screenshot,
  startHallpass,
  uniqueEmail,
} from "./lib.mjs";

const page = await fetch(`${HALLPASS}/forgot-password`).catch(() => null);
const builtIn = page?.ok && (page.headers.get("content-type") ?? "").includes("text/html");
const skip = !builtIn
  ? "hallpass serves no built-in /forgot-password page"
  : !OUTBOX
    ? "HALLPASS_OUTBOX is not set (run these tests with ./run)"
    : false;

/** Signs in on hallpass's own sign-in page and waits for the profile. */
async function signInOnHallpass(page, user, base = HALLPASS) {
  await page.goto(`${base}/sign-in?callbackURL=%2Fprofile`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/profile`);
}

test("a forgotten password: ask for a link, open it from the mail, choose a new password, sign in", { skip }, async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  const user = await createUser({ name: "Forgetful Reader", email: uniqueEmail("forgot") });
  const newPassword = "a brand new passphrase";

  await page.goto(`${HALLPASS}/sign-in`);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.waitForURL(`${HALLPASS}/forgot-password`);
  await page.getByLabel("Email").fill(user.email);
  await screenshot(page, "20-forgot-password");
  const since = Date.now();
  await page.getByRole("button", { name: "Send me a reset link" }).click();
  const sent = page.getByRole("heading", { name: "Check your email" });
  await sent.waitFor();
  // The heading takes focus, so a screen reader reads the new state.
  assert.ok(await sent.evaluate((h) => h === document.activeElement));
  assert.match(await page.locator("main").innerText(), new RegExp(`If an account uses ${user.email}`));
  await screenshot(page, "21-forgot-password-sent");

  const mail = await mailTo(user.email, { subject: "Reset your", since });
  assert.ok(
    mail.link.startsWith(`${HALLPASS}/api/auth/reset-password/`) && mail.link.endsWith("?callbackURL=%2Freset-password"),
    mail.link,
  );
  await page.goto(mail.link);
  await page.waitForURL(/\/reset-password\?token=/);
  assert.ok(page.url().startsWith(`${HALLPASS}/reset-password?token=`), page.url());

  // The two passwords must match before anything is sent.
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password", { exact: true }).fill("something else entirely");
  await page.getByRole("button", { name: "Set new password" }).click();
  const confirm = page.getByLabel("Confirm new password", { exact: true });
  await page.locator("#hp-confirm-password-error").getByText("The passwords don’t match").waitFor();
  assert.equal(await confirm.getAttribute("aria-invalid"), "true");
  assert.ok(await confirm.evaluate((el) => el === document.activeElement));
  await screenshot(page, "22-reset-password-mismatch");

  // The server's length rule, under the field it is about.
  await page.getByLabel("New password", { exact: true }).fill("short");
  await confirm.fill("short");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.locator("#hp-new-password-error").getByText(/too short/i).waitFor();

  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await confirm.fill(newPassword);
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByRole("heading", { name: "Your password is changed" }).waitFor();
  await screenshot(page, "23-reset-password-done");

  await page.getByRole("link", { name: "Sign in" }).click();
  await page.waitForURL(`${HALLPASS}/sign-in`);
  await signInOnHallpass(page, { ...user, password: newPassword });
  await page.getByRole("heading", { name: "Your profile" }).waitFor();

  // The old password is gone, and the link worked once.
  const old = await fetch(`${HALLPASS}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: HALLPASS },
    body: JSON.stringify({ email: user.email, password: PASSWORD }),
  });
  assert.equal(old.status, 401);
  await page.goto(mail.link);
  await page.waitForURL(`${HALLPASS}/reset-password?error=INVALID_TOKEN`);
  await page.getByRole("heading", { name: "This link doesn’t work any more" }).waitFor();
  await page.getByRole("link", { name: "Send me a new link" }).waitFor();
  await screenshot(page, "24-reset-link-used");
  assert.deepEqual(problems, []);
});

test("changing the address from the profile, confirmed from the new inbox, then verifying it", { skip }, async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  const user = await createUser({ name: "Moving Reader", email: uniqueEmail("moving") });
  const newEmail = uniqueEmail("moved");

  await signInOnHallpass(page, user);
  const emailCard = page.getByRole("region", { name: "Email address" });
  await emailCard.getByText("Not verified").waitFor();
  await page.getByRole("region", { name: "Sign-in methods" }).getByText("Email and password").waitFor();
  await screenshot(page, "25-profile-lifecycle");

  // The same address again is refused next to the field.
  await page.getByLabel("New email address").fill(user.email);
  await page.getByRole("button", { name: "Change email" }).click();
  await emailCard.locator("#hp-new-email-error").getByText(/same/i).waitFor();

  const since = Date.now();
  await page.getByLabel("New email address").fill(newEmail);
  await page.getByRole("button", { name: "Change email" }).click();
  await emailCard.getByRole("status").getByText(`Check your new inbox: we sent a link to ${newEmail}`).waitFor();
  await screenshot(page, "26-change-email-sent");

  const mail = await mailTo(newEmail, { subject: "Confirm your new email", since });
  assert.match(mail.link, /\/api\/auth\/verify-email\?token=.+&callbackURL=%2Femail-verified$/);
  await page.goto(mail.link);
  await page.waitForURL(`${HALLPASS}/email-verified`);
  await page.getByRole("heading", { name: "Your email is verified" }).waitFor();
  await screenshot(page, "27-email-verified");
  const verifiedText = await page.locator("main").innerText();
  assert.ok(verifiedText.includes(newEmail), verifiedText);

  await page.getByRole("link", { name: "Continue to your profile" }).click();
  await page.waitForURL(`${HALLPASS}/profile`);
  assert.equal(await emailCard.locator(".email-address").innerText(), newEmail);
  assert.ok((await page.locator(".page-title").innerText()).includes(newEmail));

  // Verify the new address with the profile's button.
  const verifySince = Date.now();
  await page.getByRole("button", { name: "Verify my email" }).click();
  await emailCard.getByRole("status").getByText(`we sent a link to ${newEmail}`).waitFor();
  const verification = await mailTo(newEmail, { subject: "Confirm your email address", since: verifySince });
  assert.match(verification.link, /callbackURL=%2Femail-verified$/);
  await page.goto(verification.link);
  await page.waitForURL(`${HALLPASS}/email-verified`);
  await page.getByRole("link", { name: "Continue to your profile" }).click();
  await emailCard.getByText("Verified", { exact: true }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Verify my email" }).count(), 0);

  // The old address no longer signs in; the new one does.
  const signIn = (email) =>
    fetch(`${HALLPASS}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: HALLPASS },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
  assert.equal((await signIn(user.email)).status, 401);
  assert.equal((await signIn(newEmail)).status, 200);

  // An expired or broken verification link says so, and offers a new one only when it can help.
  await page.goto(`${HALLPASS}/api/auth/verify-email?token=not-a-token&callbackURL=%2Femail-verified`);
  await page.waitForURL(`${HALLPASS}/email-verified?error=INVALID_TOKEN`);
  await page.getByRole("heading", { name: "We couldn’t verify your email" }).waitFor();
  await screenshot(page, "28-email-verified-error");
  assert.deepEqual(problems, []);
});

test("deleting an account from the profile, with the password", { skip }, async (t) => {
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  const user = await createUser({ name: "Leaving Reader", email: uniqueEmail("leaving") });

  await signInOnHallpass(page, user);
  const danger = page.getByRole("region", { name: "Delete account" });
  await danger.getByRole("button", { name: "Delete my account" }).click();
  await danger.locator("#hp-delete-password-error").getByText("Enter your password to confirm.").waitFor();
  await danger.getByLabel("Your password").fill("not my password");
  await danger.getByRole("button", { name: "Delete my account" }).click();
  await danger.locator("#hp-delete-password-error").getByText(/invalid password/i).waitFor();
  assert.equal(await danger.getByLabel("Your password").getAttribute("aria-invalid"), "true");
  await screenshot(page, "29-delete-account-wrong-password");

  await danger.getByLabel("Your password").fill(user.password);
  await danger.getByRole("button", { name: "Delete my account" }).click();
  // Back to "/", signed out: which is the sign-in page.
  await page.waitForURL(`${HALLPASS}/sign-in`);
  const session = await page.evaluate(() => fetch("/api/auth/get-session").then((r) => r.json()));
  assert.equal(session, null);

  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").getByText(/invalid email or password/i).waitFor();
  assert.deepEqual(problems, []);
});

test("with verification required: sign-up asks to check the inbox, sign-in offers the link again", { skip }, async (t) => {
  const own = await startHallpass(t, { HALLPASS_REQUIRE_EMAIL_VERIFICATION: "1" });
  const browser = await launch(t);
  const { page, problems } = await newPage(browser);
  const user = { name: "Careful Reader", email: uniqueEmail("careful"), password: PASSWORD };

  const since = Date.now();
  await page.goto(`${own.url}/sign-up`);
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  assert.equal(page.url(), `${own.url}/sign-up`);
  assert.ok((await page.locator("main").innerText()).includes(user.email));
  await screenshot(page, "30-sign-up-check-your-email");
  const first = await mailTo(user.email, { subject: "Confirm your email", since, outbox: own.outbox });
  assert.match(first.link, /callbackURL=%2Femail-verified$/);

  // Signing in before confirming: a clear message and the link again, without a session.
  await page.goto(`${own.url}/sign-in`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const panel = page.locator("[data-hp-unverified]");
  await panel.getByText("Please confirm your email address first.").waitFor();
  const resendSince = Date.now();
  await panel.getByRole("button", { name: "Resend the link" }).click();
  await panel.getByRole("status").getByText(/a new link is on its way/).waitFor();
  await screenshot(page, "31-sign-in-email-not-verified");
  const again = await mailTo(user.email, { subject: "Confirm your email", since: resendSince, outbox: own.outbox });
  assert.notEqual(again.file, first.file);

  await page.goto(again.link);
  await page.waitForURL(`${own.url}/email-verified`);
  await page.getByRole("heading", { name: "Your email is verified" }).waitFor();
  await page.getByRole("link", { name: "Sign in" }).click();
  await signInOnHallpass(page, user, own.url);
  await page.getByRole("region", { name: "Email address" }).getByText("Verified", { exact: true }).waitFor();
  assert.deepEqual(problems, []);
});
