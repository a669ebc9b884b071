// CSRF and origin checks (Origin, Referer, Sec-Fetch-*) and callbackURL validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { browser, signedUpUser, sessionOf, raw, assertError, uniqueEmail, ORIGIN, EVIL_ORIGIN, SERVER_ORIGIN, PASSWORD } from "./lib.mjs";

test("a POST with the session cookie from an untrusted Origin is refused with 403 INVALID_ORIGIN", async () => {
  const { b } = await signedUpUser();
  const r = await raw("POST", "/update-user", { cookie: b.cookieHeader(), origin: EVIL_ORIGIN, body: { name: "Hijacked" } });
  assert.equal(r.status, 403, r.text);
  assert.deepEqual(r.json, { message: "Invalid origin", code: "INVALID_ORIGIN" });
  assert.equal((await sessionOf(b)).user.name, "Test Learner", "nothing changed");
});

test("a POST with the session cookie and no Origin is refused with 403 MISSING_OR_NULL_ORIGIN", async () => {
  const { b } = await signedUpUser();
  const r = await raw("POST", "/update-user", { cookie: b.cookieHeader(), body: { name: "Hijacked" } });
  assert.equal(r.status, 403, r.text);
  assert.deepEqual(r.json, { message: "Missing or null Origin", code: "MISSING_OR_NULL_ORIGIN" });
  assert.equal((await sessionOf(b)).user.name, "Test Learner");
});

test("a POST with the session cookie and Origin: null is refused with 403 MISSING_OR_NULL_ORIGIN", async () => {
  const { b } = await signedUpUser();
  const r = await raw("POST", "/sign-out", { cookie: b.cookieHeader(), origin: "null", body: {} });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.code, "MISSING_OR_NULL_ORIGIN");
  assert.ok(await sessionOf(b), "still signed in");
});

test("a POST with the session cookie and a trusted Referer but no Origin is accepted", async () => {
  const { b } = await signedUpUser();
  const r = await raw("POST", "/update-user", { cookie: b.cookieHeader(), headers: { referer: `${ORIGIN}/docs/intro` }, body: { name: "Via Referer" } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await sessionOf(b)).user.name, "Via Referer");
});

test("the server's own origin is trusted", async () => {
  const { b } = await signedUpUser();
  const r = await raw("POST", "/update-user", { cookie: b.cookieHeader(), origin: SERVER_ORIGIN, body: { name: "Same Origin" } });
  assert.equal(r.status, 200, r.text);
});

test("a GET with the session cookie from an untrusted Origin is not origin-checked", async () => {
  const { b, user } = await signedUpUser();
  const r = await raw("GET", "/get-session", { cookie: b.cookieHeader(), origin: EVIL_ORIGIN });
  assert.equal(r.status, 200);
  assert.equal(r.json.user.id, user.id);
});

test("sign-in from an untrusted Origin without any cookie is refused with 403 INVALID_ORIGIN", async () => {
  const { email } = await signedUpUser();
  const b = browser({ origin: EVIL_ORIGIN });
  const { error } = await b.client.signIn.email({ email, password: PASSWORD });
  assertError(error, { status: 403, code: "INVALID_ORIGIN" });
  assert.equal(b.sessionCookie(), undefined);
});

test("sign-up from an untrusted Origin without any cookie is refused with 403 INVALID_ORIGIN", async () => {
  const email = uniqueEmail("evil");
  const { error } = await browser({ origin: EVIL_ORIGIN }).client.signUp.email({ name: "Evil", email, password: PASSWORD });
  assertError(error, { status: 403, code: "INVALID_ORIGIN" });
  const later = await browser().client.signUp.email({ name: "Real", email, password: PASSWORD });
  assert.equal(later.error, null, "the refused sign-up created no user");
});

test("a cross-site navigation to sign-in is refused with 403 CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", async () => {
  const { email } = await signedUpUser();
  const r = await raw("POST", "/sign-in/email", {
    headers: { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, body: { email, password: PASSWORD },
  });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.code, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED");
});

test("a sign-in that carries Sec-Fetch headers but no Origin is refused with 403 MISSING_OR_NULL_ORIGIN", async () => {
  // Node's own fetch always adds Sec-Fetch-Mode: cors, so a Node script must send Origin to sign in.
  const { email } = await signedUpUser();
  const r = await raw("POST", "/sign-in/email", { headers: { "sec-fetch-mode": "cors" }, body: { email, password: PASSWORD } });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.code, "MISSING_OR_NULL_ORIGIN");
});

test("a server-to-server sign-in with neither Origin nor cookie is accepted", async () => {
  const { email, user } = await signedUpUser();
  const r = await raw("POST", "/sign-in/email", { body: { email, password: PASSWORD } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.user.id, user.id);
});

test("sign-in with a callbackURL on an untrusted origin is refused with 403 INVALID_CALLBACK_URL", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  const { error } = await b.client.signIn.email({ email, password: PASSWORD, callbackURL: `${EVIL_ORIGIN}/steal` });
  assertError(error, { status: 403, code: "INVALID_CALLBACK_URL", message: "Invalid callbackURL" });
  assert.equal(b.sessionCookie(), undefined, "no session was started");
});

test("sign-in with a protocol-relative callbackURL is refused with 403 INVALID_CALLBACK_URL", async () => {
  const { email } = await signedUpUser();
  const { error } = await browser().client.signIn.email({ email, password: PASSWORD, callbackURL: "//evil.example/steal" });
  assertError(error, { status: 403, code: "INVALID_CALLBACK_URL" });
});

test("sign-up with a callbackURL on an untrusted origin is refused with 403 INVALID_CALLBACK_URL", async () => {
  const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("cb"), password: PASSWORD, callbackURL: `${EVIL_ORIGIN}/x` });
  assertError(error, { status: 403, code: "INVALID_CALLBACK_URL" });
});

test("sign-in accepts a relative callbackURL such as /docs/intro", async () => {
  const { email } = await signedUpUser();
  const { data, error } = await browser().client.signIn.email({ email, password: PASSWORD, callbackURL: "/docs/intro" });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.url, "/docs/intro");
});

test("sign-in accepts an absolute callbackURL on a trusted origin", async () => {
  const { email } = await signedUpUser();
  const { data, error } = await browser().client.signIn.email({ email, password: PASSWORD, callbackURL: `${ORIGIN}/docs/intro` });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.url, `${ORIGIN}/docs/intro`);
  assert.equal(data.redirect, true);
});
