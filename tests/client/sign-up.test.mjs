// POST /sign-up/email through the official client.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  browser, uniqueEmail, signedUpUser, assertError, cookiesOf, splitSigned, sessionOf,
  COOKIE, PASSWORD, TOKEN_32,
} from "./lib.mjs";

test("sign-up returns a session token and the user with the profile fields", async () => {
  const email = uniqueEmail("signup");
  const b = browser();
  const { data, error } = await b.client.signUp.email({
    name: "Ada Learner", email, password: PASSWORD,
    software_background: "intermediate", hardware_background: "beginner",
  });
  assert.equal(error, null, JSON.stringify(error));
  assert.match(data.token, TOKEN_32);
  const u = data.user;
  assert.match(u.id, /^\S+$/);
  assert.equal(u.name, "Ada Learner");
  assert.equal(u.email, email);
  assert.equal(u.emailVerified, false);
  assert.equal(u.image, null);
  assert.ok(u.createdAt instanceof Date, "createdAt is revived as a Date by the client");
  assert.ok(u.updatedAt instanceof Date, "updatedAt is revived as a Date by the client");
  assert.ok(Math.abs(u.createdAt.getTime() - Date.now()) < 60_000, "createdAt is now");
  assert.equal(u.software_background, "intermediate");
  assert.equal(u.hardware_background, "beginner");
});

test("sign-up without profile fields stores them as null", async () => {
  const { user, b } = await signedUpUser();
  assert.equal(user.software_background, null);
  assert.equal(user.hardware_background, null);
  const s = await sessionOf(b);
  assert.equal(s.user.software_background, null);
  assert.equal(s.user.hardware_background, null);
});

test("sign-up sets an HttpOnly, SameSite=Lax, Path=/ session cookie that lasts seven days", async () => {
  const { token, res } = await signedUpUser();
  const c = cookiesOf(res)[COOKIE.session];
  assert.ok(c, `no ${COOKIE.session} cookie in ${JSON.stringify(res.headers.getSetCookie())}`);
  assert.equal(c.attrs.httponly, true);
  assert.equal(String(c.attrs.samesite).toLowerCase(), "lax");
  assert.equal(c.attrs.path, "/");
  assert.equal(c.attrs["max-age"], "604800");
  const signed = splitSigned(c.value);
  assert.equal(signed.token, token, "the cookie holds the session token");
  assert.match(signed.signature, /^[A-Za-z0-9+/]{43}=$/, "the signature is padded base64 of an HMAC-SHA256");
  assert.ok(!c.value.includes("+") && !c.value.includes("/") && !c.value.endsWith("="), "the cookie value is URL-encoded");
});

test("sign-up signs the new user in: get-session answers with that user", async () => {
  const { b, user, token } = await signedUpUser({ software_background: "advanced" });
  const s = await sessionOf(b);
  assert.equal(s.user.id, user.id);
  assert.equal(s.session.token, token);
  assert.equal(s.user.software_background, "advanced");
});

test("sign-up stores the email in lower case", async () => {
  const email = uniqueEmail("MixedCase");
  const { data, error } = await browser().client.signUp.email({ name: "Case", email, password: PASSWORD });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.user.email, email.toLowerCase());
});

test("sign-up with an email already taken is refused with 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  const { data, error } = await b.client.signUp.email({ name: "Copy", email, password: "another password" });
  assert.equal(data, null);
  assertError(error, { status: 422, code: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", message: "User already exists. Use another email." });
  assert.equal(b.sessionCookie(), undefined, "no session cookie is set");
});

test("sign-up with an email already taken in another letter case is refused too", async () => {
  const { email } = await signedUpUser();
  const { error } = await browser().client.signUp.email({ name: "Copy", email: email.toUpperCase(), password: PASSWORD });
  assertError(error, { status: 422, code: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL" });
});

test("sign-up with an invalid email is refused with 400 VALIDATION_ERROR naming the email", async () => {
  const b = browser();
  const { error } = await b.client.signUp.email({ name: "X", email: "not-an-email", password: PASSWORD });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /email/ });
  assert.equal(b.sessionCookie(), undefined);
});

test("sign-up without a name is refused with 400 VALIDATION_ERROR naming the name", async () => {
  const { error } = await browser().client.signUp.email({ email: uniqueEmail("noname"), password: PASSWORD });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /name/ });
});

test("sign-up with a 7-character password is refused with 400 PASSWORD_TOO_SHORT", async () => {
  const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("short"), password: "1234567" });
  assertError(error, { status: 400, code: "PASSWORD_TOO_SHORT", message: "Password too short" });
});

test("sign-up accepts passwords of exactly 8 and exactly 128 characters", async () => {
  for (const password of ["12345678", "p".repeat(128)]) {
    const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("edge"), password });
    assert.equal(error, null, `length ${password.length}: ${JSON.stringify(error)}`);
  }
});

test("sign-up with a 129-character password is refused with 400 PASSWORD_TOO_LONG", async () => {
  const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("long"), password: "p".repeat(129) });
  assertError(error, { status: 400, code: "PASSWORD_TOO_LONG", message: "Password too long" });
});

test("a refused sign-up creates no user: the same email can sign up afterwards", async () => {
  const email = uniqueEmail("retry");
  const first = await browser().client.signUp.email({ name: "X", email, password: "short" });
  assertError(first.error, { code: "PASSWORD_TOO_SHORT" });
  const second = await browser().client.signUp.email({ name: "X", email, password: PASSWORD });
  assert.equal(second.error, null, JSON.stringify(second.error));
});
