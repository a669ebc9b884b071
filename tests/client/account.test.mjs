// POST /update-user and POST /change-password.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  browser, signedUpUser, signedInBrowser, sessionOf, assertError, cookiesOf, splitSigned,
  raw, COOKIE, ORIGIN, PASSWORD, TOKEN_32,
} from "./lib.mjs";

const NEW_PASSWORD = "a brand new secret";

test("update-user changes the name and the profile, answers {status:true}, and get-session shows it", async () => {
  const { b, user } = await signedUpUser({ software_background: "none", hardware_background: "none" });
  const { data, error } = await b.client.updateUser({ name: "Ada L.", software_background: "advanced", hardware_background: "intermediate" });
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, { status: true });
  const s = await sessionOf(b);
  assert.equal(s.user.id, user.id);
  assert.equal(s.user.name, "Ada L.");
  assert.equal(s.user.software_background, "advanced");
  assert.equal(s.user.hardware_background, "intermediate");
  assert.ok(s.user.updatedAt.getTime() >= user.updatedAt.getTime(), "updatedAt does not go back");
});

test("update-user is seen by the user's other sessions", async () => {
  const { b, email } = await signedUpUser();
  const other = await signedInBrowser(email);
  await b.client.updateUser({ hardware_background: "beginner" });
  assert.equal((await sessionOf(other.b)).user.hardware_background, "beginner");
});

test("update-user with one field leaves the others as they were", async () => {
  const { b } = await signedUpUser({ software_background: "beginner", hardware_background: "advanced" });
  await b.client.updateUser({ software_background: "intermediate" });
  const s = await sessionOf(b);
  assert.equal(s.user.software_background, "intermediate");
  assert.equal(s.user.hardware_background, "advanced");
  assert.equal(s.user.name, "Test Learner");
});

test("update-user can clear a profile field with null", async () => {
  const { b } = await signedUpUser({ software_background: "beginner" });
  const { error } = await b.client.updateUser({ software_background: null });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal((await sessionOf(b)).user.software_background, null);
});

test("update-user re-sets the same session cookie", async () => {
  const { b, token } = await signedUpUser();
  await b.client.updateUser({ name: "Renamed" });
  const c = cookiesOf(b.last)[COOKIE.session];
  assert.ok(c, "the session cookie is sent again");
  assert.equal(splitSigned(c.value).token, token, "with the same token");
});

test("update-user with an email is refused with 400 EMAIL_CAN_NOT_BE_UPDATED", async () => {
  const { b, email } = await signedUpUser();
  const { error } = await b.client.updateUser({ email: "someone.else@example.com" });
  assertError(error, { status: 400, code: "EMAIL_CAN_NOT_BE_UPDATED", message: "Email can not be updated" });
  assert.equal((await sessionOf(b)).user.email, email);
});

test("update-user with nothing to update is refused with 400 \"No fields to update\" and no code", async () => {
  // The client turns updateUser({}) into a GET (no body keys), which is a 404; a browser form or a
  // script that POSTs {} gets this answer.
  const { b } = await signedUpUser();
  const r = await raw("POST", "/update-user", { cookie: b.cookieHeader(), origin: ORIGIN, body: {} });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(r.json, { message: "No fields to update" });
});

test("update-user with only unknown fields is refused with 400 \"No fields to update\"", async () => {
  const { b } = await signedUpUser();
  const { error } = await b.client.updateUser({ favourite_colour: "green" });
  assertError(error, { status: 400, code: null, message: "No fields to update" });
});

test("update-user without a session is refused with 401 UNAUTHORIZED", async () => {
  const { error } = await browser().client.updateUser({ name: "Nobody" });
  assertError(error, { status: 401, code: "UNAUTHORIZED" });
});

test("change-password with a wrong current password is refused with 400 INVALID_PASSWORD", async () => {
  const { b, email } = await signedUpUser();
  const { error } = await b.client.changePassword({ currentPassword: "not my password", newPassword: NEW_PASSWORD });
  assertError(error, { status: 400, code: "INVALID_PASSWORD", message: "Invalid password" });
  await signedInBrowser(email, PASSWORD);
});

test("change-password with a too short new password is refused with 400 PASSWORD_TOO_SHORT", async () => {
  const { b } = await signedUpUser();
  const { error } = await b.client.changePassword({ currentPassword: PASSWORD, newPassword: "short" });
  assertError(error, { status: 400, code: "PASSWORD_TOO_SHORT" });
});

test("change-password without revokeOtherSessions answers token:null and keeps every session", async () => {
  const { b, email, user, token } = await signedUpUser();
  const other = await signedInBrowser(email);
  const { data, error } = await b.client.changePassword({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.token, null);
  assert.equal(data.user.id, user.id);
  assert.equal((await sessionOf(b)).session.token, token);
  assert.ok(await sessionOf(other.b), "the other session goes on");
  const old = await browser().client.signIn.email({ email, password: PASSWORD });
  assertError(old.error, { status: 401, code: "INVALID_EMAIL_OR_PASSWORD" });
  await signedInBrowser(email, NEW_PASSWORD);
});

test("change-password with revokeOtherSessions answers a new token and ends the other sessions", async () => {
  const { b, email, user, token } = await signedUpUser();
  const other = await signedInBrowser(email);
  const { data, error } = await b.client.changePassword({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD, revokeOtherSessions: true });
  assert.equal(error, null, JSON.stringify(error));
  assert.match(data.token, TOKEN_32);
  assert.notEqual(data.token, token);
  assert.equal(data.user.id, user.id);
  const c = cookiesOf(b.last)[COOKIE.session];
  assert.equal(splitSigned(c.value).token, data.token, "the caller gets a cookie for the new session");
  assert.equal((await sessionOf(b)).session.token, data.token, "the caller stays signed in");
  assert.equal(await sessionOf(other.b), null, "the other session is over");
  await signedInBrowser(email, NEW_PASSWORD);
});

test("change-password without a session is refused with 401 UNAUTHORIZED", async () => {
  const { error } = await browser().client.changePassword({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
  assertError(error, { status: 401, code: "UNAUTHORIZED" });
});
