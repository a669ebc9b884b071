// GET /get-session, /list-sessions, the revoke endpoints and /sign-out.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  browser, signedUpUser, signedInBrowser, sessionOf, assertError, cookiesOf, raw,
  COOKIE, ORIGIN, PASSWORD, ISO_MS, TOKEN_32,
} from "./lib.mjs";

const SESSION_KEYS = ["createdAt", "expiresAt", "id", "ipAddress", "token", "updatedAt", "userAgent", "userId"];
const USER_KEYS = ["createdAt", "email", "emailVerified", "hardware_background", "id", "image", "name", "software_background", "updatedAt"];

test("get-session answers {session, user} with Better Auth's fields and nothing else", async () => {
  const { b, user, token, email } = await signedUpUser({ software_background: "beginner", hardware_background: "advanced" });
  const s = await sessionOf(b);
  assert.deepEqual(Object.keys(s).sort(), ["session", "user"]);
  assert.deepEqual(Object.keys(s.session).sort(), SESSION_KEYS);
  assert.deepEqual(Object.keys(s.user).sort(), USER_KEYS);
  assert.equal(s.session.token, token);
  assert.equal(s.session.userId, user.id);
  assert.match(s.session.id, /^\S+$/);
  assert.notEqual(s.session.id, token, "the session id is not the token");
  for (const k of ["expiresAt", "createdAt", "updatedAt"]) assert.ok(s.session[k] instanceof Date, `session.${k} is a Date`);
  assert.equal(typeof s.session.ipAddress, "string");
  assert.equal(typeof s.session.userAgent, "string");
  assert.deepEqual(
    { id: s.user.id, name: s.user.name, email: s.user.email, emailVerified: s.user.emailVerified, image: s.user.image },
    { id: user.id, name: "Test Learner", email, emailVerified: false, image: null },
  );
  assert.equal(s.user.software_background, "beginner");
  assert.equal(s.user.hardware_background, "advanced");
});

test("get-session writes dates as ISO-8601 with milliseconds and Z, and says cache-control: no-store", async () => {
  const { b } = await signedUpUser();
  const r = await raw("GET", "/get-session", { cookie: b.cookieHeader() });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") || "", /^application\/json/);
  assert.match(r.headers.get("cache-control") || "", /no-store/);
  for (const k of ["expiresAt", "createdAt", "updatedAt"]) assert.match(r.json.session[k], ISO_MS, `session.${k}`);
  for (const k of ["createdAt", "updatedAt"]) assert.match(r.json.user[k], ISO_MS, `user.${k}`);
});

test("get-session records the sign-in's User-Agent in the session", async () => {
  const { email } = await signedUpUser();
  const signIn = await raw("POST", "/sign-in/email", {
    origin: ORIGIN, headers: { "user-agent": "hallpass-client-tests/1.0" }, body: { email, password: PASSWORD },
  });
  assert.equal(signIn.status, 200, signIn.text);
  const r = await raw("GET", "/get-session", { bearer: signIn.json.token });
  assert.equal(r.json.session.userAgent, "hallpass-client-tests/1.0");
});

test("get-session without credentials answers 200 with null", async () => {
  const b = browser();
  const { data, error } = await b.client.getSession();
  assert.equal(error, null);
  assert.equal(data, null);
  const r = await raw("GET", "/get-session");
  assert.equal(r.status, 200);
  assert.equal(r.text, "null");
  assert.match(r.headers.get("cache-control") || "", /no-store/);
});

test("get-session with a tampered cookie signature answers null", async () => {
  const { b, token } = await signedUpUser();
  const value = decodeURIComponent(b.sessionCookie());
  const sig = value.slice(value.lastIndexOf(".") + 1);
  const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
  const tampered = encodeURIComponent(`${token}.${flipped}`);
  const r = await raw("GET", "/get-session", { cookie: `${COOKIE.session}=${tampered}` });
  assert.equal(r.status, 200);
  assert.equal(r.text, "null");
  const ok = await raw("GET", "/get-session", { cookie: b.cookieHeader() });
  assert.equal(ok.json.session.token, token, "the untouched cookie still works");
});

test("get-session with an unsigned token in the cookie answers null", async () => {
  const { token } = await signedUpUser();
  const r = await raw("GET", "/get-session", { cookie: `${COOKIE.session}=${token}` });
  assert.equal(r.status, 200);
  assert.equal(r.text, "null");
});

test("list-sessions lists every session of the user, tokens included, and no one else's", async () => {
  const { b, email, user, token } = await signedUpUser();
  const second = await signedInBrowser(email);
  const stranger = await signedUpUser();
  const { data, error } = await b.client.listSessions();
  assert.equal(error, null, JSON.stringify(error));
  assert.ok(Array.isArray(data));
  const tokens = data.map((s) => s.token).sort();
  assert.deepEqual(tokens, [token, second.data.token].sort());
  assert.ok(!tokens.includes(stranger.token));
  for (const s of data) {
    assert.equal(s.userId, user.id);
    assert.match(s.token, TOKEN_32);
    assert.ok(s.expiresAt instanceof Date && s.createdAt instanceof Date && s.updatedAt instanceof Date);
    for (const k of SESSION_KEYS) assert.ok(k in s, `session has ${k}`);
  }
});

test("list-sessions without a session is refused with 401 UNAUTHORIZED", async () => {
  const { error } = await browser().client.listSessions();
  assertError(error, { status: 401, code: "UNAUTHORIZED" });
});

test("revoke-session of the caller's own token ends it and expires the cookie", async () => {
  const { b, token } = await signedUpUser();
  const oldCookie = b.cookieHeader();
  const { data, error } = await b.client.revokeSession({ token });
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { status: true });
  const expired = cookiesOf(b.last)[COOKIE.session];
  assert.ok(expired && (expired.value === "" || expired.attrs["max-age"] === "0"), "the session cookie is expired");
  assert.equal(await sessionOf(b), null);
  const replay = await raw("GET", "/get-session", { cookie: oldCookie });
  assert.equal(replay.text, "null", "the old cookie no longer works");
});

test("revoke-session of another of the user's sessions ends that one only", async () => {
  const { b, email } = await signedUpUser();
  const other = await signedInBrowser(email);
  const { data } = await b.client.revokeSession({ token: other.data.token });
  assert.deepEqual(data, { status: true });
  assert.equal(await sessionOf(other.b), null);
  assert.ok(await sessionOf(b), "the caller stays signed in");
});

test("revoke-session of someone else's token answers {status:true} and ends nothing", async () => {
  const alice = await signedUpUser();
  const bob = await signedUpUser();
  const { data, error } = await alice.b.client.revokeSession({ token: bob.token });
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { status: true });
  assert.equal((await sessionOf(bob.b)).session.token, bob.token, "bob is still signed in");
  assert.ok(await sessionOf(alice.b), "alice is still signed in");
});

test("revoke-session of an unknown token answers {status:true}", async () => {
  const { b } = await signedUpUser();
  const { data, error } = await b.client.revokeSession({ token: "x".repeat(32) });
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { status: true });
  assert.ok(await sessionOf(b));
});

test("revoke-sessions ends every session of the user, the caller's too", async () => {
  const { b, email } = await signedUpUser();
  const other = await signedInBrowser(email);
  const bystander = await signedUpUser();
  const { data, error } = await b.client.revokeSessions();
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { status: true });
  assert.equal(b.sessionCookie(), undefined, "the caller's cookie is expired");
  assert.equal(await sessionOf(b), null);
  assert.equal(await sessionOf(other.b), null);
  assert.ok(await sessionOf(bystander.b), "other users keep their sessions");
});

test("revoke-other-sessions ends the other sessions and keeps the current one", async () => {
  const { b, email, token } = await signedUpUser();
  const second = await signedInBrowser(email);
  const third = await signedInBrowser(email);
  const { data, error } = await b.client.revokeOtherSessions();
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { status: true });
  assert.equal((await sessionOf(b)).session.token, token);
  assert.equal(await sessionOf(second.b), null);
  assert.equal(await sessionOf(third.b), null);
  const list = await b.client.listSessions();
  assert.deepEqual(list.data.map((s) => s.token), [token]);
});

test("sign-out answers {success:true}, expires the cookie and ends the session", async () => {
  const { b } = await signedUpUser();
  const oldCookie = b.cookieHeader();
  const { data, error } = await b.client.signOut();
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { success: true });
  const c = cookiesOf(b.last)[COOKIE.session];
  assert.ok(c, "sign-out sets the session cookie");
  assert.equal(c.value, "");
  assert.equal(c.attrs["max-age"], "0");
  assert.equal(c.attrs.path, "/");
  assert.equal(await sessionOf(b), null);
  const replay = await raw("GET", "/get-session", { cookie: oldCookie });
  assert.equal(replay.text, "null", "the old cookie no longer works");
});

test("sign-out also expires the dont_remember cookie", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  await b.client.signIn.email({ email, password: PASSWORD, rememberMe: false });
  assert.ok(b.jar.has(COOKIE.dontRemember));
  await b.client.signOut();
  const c = cookiesOf(b.last)[COOKIE.dontRemember];
  assert.ok(c && c.attrs["max-age"] === "0", "dont_remember is expired");
  assert.equal(b.jar.size, 0, `no cookies left: ${[...b.jar.keys()]}`);
});

test("sign-out without a session still answers {success:true}", async () => {
  const { data, error } = await browser().client.signOut();
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { success: true });
});

test("a session of one user never shows another user's data", async () => {
  const a = await signedUpUser({ software_background: "none" });
  const b = await signedUpUser({ software_background: "advanced" });
  const sa = await sessionOf(a.b); const sb = await sessionOf(b.b);
  assert.notEqual(sa.user.id, sb.user.id);
  assert.equal(sa.user.email, a.email);
  assert.equal(sb.user.email, b.email);
  assert.equal(sa.user.software_background, "none");
  assert.equal(sb.user.software_background, "advanced");
});
