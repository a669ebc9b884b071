// POST /sign-in/email through the official client.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  browser, uniqueEmail, signedUpUser, assertError, cookiesOf, splitSigned, sessionOf, secondsUntil,
  raw, COOKIE, PASSWORD, TOKEN_32, ORIGIN,
} from "./lib.mjs";

test("sign-in with the right password returns redirect:false, a new token and the user", async () => {
  const { email, user, token: signUpToken } = await signedUpUser({ hardware_background: "none" });
  const b = browser();
  const { data, error } = await b.client.signIn.email({ email, password: PASSWORD });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.redirect, false);
  assert.equal("url" in data, false, "no url without a callbackURL");
  assert.match(data.token, TOKEN_32);
  assert.notEqual(data.token, signUpToken, "each sign-in makes a new session");
  assert.equal(data.user.id, user.id);
  assert.equal(data.user.hardware_background, "none");
  const c = cookiesOf(b.last)[COOKIE.session];
  assert.equal(splitSigned(c.value).token, data.token);
  assert.equal(c.attrs["max-age"], "604800");
  assert.equal((await sessionOf(b)).session.token, data.token);
});

test("sign-in with a wrong password is refused with 401 INVALID_EMAIL_OR_PASSWORD", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  const { data, error } = await b.client.signIn.email({ email, password: "wrong password!" });
  assert.equal(data, null);
  assertError(error, { status: 401, code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password" });
  assert.equal(b.sessionCookie(), undefined, "no session cookie is set");
});

test("sign-in with an unknown email gets the same 401 INVALID_EMAIL_OR_PASSWORD", async () => {
  const { error } = await browser().client.signIn.email({ email: uniqueEmail("nobody"), password: PASSWORD });
  assertError(error, { status: 401, code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password" });
});

test("sign-in ignores the letter case of the email", async () => {
  const { email, user } = await signedUpUser();
  const { data, error } = await browser().client.signIn.email({ email: email.toUpperCase(), password: PASSWORD });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.user.id, user.id);
  assert.equal(data.user.email, email);
});

test("sign-in with a malformed email is refused with 400 INVALID_EMAIL", async () => {
  const { error } = await browser().client.signIn.email({ email: "not-an-email", password: PASSWORD });
  assertError(error, { status: 400, code: "INVALID_EMAIL", message: "Invalid email" });
});

test("sign-in with a 129-character password is refused with 400 PASSWORD_TOO_LONG", async () => {
  const { email } = await signedUpUser();
  const { error } = await browser().client.signIn.email({ email, password: "p".repeat(129) });
  assertError(error, { status: 400, code: "PASSWORD_TOO_LONG" });
});

test("sign-in with a callbackURL answers 200 with redirect:true, the url and a Location header", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  const { data, error } = await b.client.signIn.email({ email, password: PASSWORD, callbackURL: "/docs/intro" });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(b.last.status, 200);
  assert.equal(data.redirect, true);
  assert.equal(data.url, "/docs/intro");
  assert.equal(b.last.headers.get("location"), "/docs/intro");
  assert.ok(b.sessionCookie(), "the session cookie is set as well");
});

test("sign-in with rememberMe:false sets a browser-session cookie and a dont_remember cookie", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  const { error } = await b.client.signIn.email({ email, password: PASSWORD, rememberMe: false });
  assert.equal(error, null, JSON.stringify(error));
  const cookies = cookiesOf(b.last);
  const session = cookies[COOKIE.session];
  assert.ok(session, "session cookie set");
  assert.equal(session.attrs["max-age"], undefined, "no Max-Age: it ends with the browser session");
  assert.equal(session.attrs.expires, undefined, "no Expires either");
  assert.equal(session.attrs.httponly, true);
  const dont = cookies[COOKIE.dontRemember];
  assert.ok(dont, `a ${COOKIE.dontRemember} cookie is set`);
  const signed = splitSigned(dont.value);
  assert.equal(signed.token, "true");
  assert.match(signed.signature, /^[A-Za-z0-9+/]{43}=$/);
  assert.equal(dont.attrs["max-age"], undefined);
  assert.equal(dont.attrs.httponly, true);
  assert.equal(dont.attrs.path, "/");
});

test("sign-in with rememberMe:false makes a session that expires in about one day", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  await b.client.signIn.email({ email, password: PASSWORD, rememberMe: false });
  const s = await sessionOf(b);
  const left = secondsUntil(s.session.expiresAt);
  assert.ok(left > 86400 - 120 && left <= 86400 + 5, `expires in ${left} s`);
});

test("a remembered session expires in about seven days", async () => {
  const { b } = await signedUpUser();
  const s = await sessionOf(b);
  const left = secondsUntil(s.session.expiresAt);
  assert.ok(left > 604800 - 120 && left <= 604800 + 5, `expires in ${left} s`);
});

test("sign-in accepts a form-encoded body", async () => {
  const { email, user } = await signedUpUser();
  const r = await raw("POST", "/sign-in/email", {
    origin: ORIGIN,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, password: PASSWORD }).toString(),
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.user.id, user.id);
});

test("each sign-in is a separate session: signing in twice gives two sessions", async () => {
  const { email } = await signedUpUser();
  const one = browser(); const two = browser();
  await one.client.signIn.email({ email, password: PASSWORD });
  await two.client.signIn.email({ email, password: PASSWORD });
  const s1 = await sessionOf(one); const s2 = await sessionOf(two);
  assert.notEqual(s1.session.id, s2.session.id);
  assert.equal(s1.user.id, s2.user.id);
});
