// What hallpass does beyond Better Auth: validated profile fields, CORS for trusted origins, and a
// bound on request bodies. Skipped with PEER=1, since the real Better Auth does none of these.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  browser, signedUpUser, sessionOf, assertError, raw, uniqueEmail, headerList,
  IS_PEER, ORIGIN, EVIL_ORIGIN, PASSWORD,
} from "./lib.mjs";

const skip = IS_PEER ? "hallpass only (PEER=1)" : false;
const LEVELS = ["none", "beginner", "intermediate", "advanced"];

test("sign-up accepts each background level and null", { skip }, async () => {
  for (const level of [...LEVELS, null]) {
    const { data, error } = await browser().client.signUp.email({
      name: "Level", email: uniqueEmail("level"), password: PASSWORD,
      software_background: level, hardware_background: level,
    });
    assert.equal(error, null, `${level}: ${JSON.stringify(error)}`);
    assert.equal(data.user.software_background, level);
    assert.equal(data.user.hardware_background, level);
  }
});

test("sign-up with an unknown software_background is refused with 400 VALIDATION_ERROR naming the field", { skip }, async () => {
  const email = uniqueEmail("badlevel");
  const b = browser();
  const { error } = await b.client.signUp.email({ name: "X", email, password: PASSWORD, software_background: "expert" });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /software_background/ });
  assert.equal(b.sessionCookie(), undefined, "no session cookie");
  const again = await browser().client.signUp.email({ name: "X", email, password: PASSWORD, software_background: "advanced" });
  assert.equal(again.error, null, "the refused sign-up created no user");
});

test("sign-up with an unknown hardware_background is refused with 400 VALIDATION_ERROR naming the field", { skip }, async () => {
  const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("badhw"), password: PASSWORD, hardware_background: "guru" });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /hardware_background/ });
});

test("sign-up with a background that is not a string is refused with 400 VALIDATION_ERROR naming the field", { skip }, async () => {
  const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("numlevel"), password: PASSWORD, software_background: 3 });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /software_background/ });
});

test("sign-up with a level in the wrong letter case is refused", { skip }, async () => {
  const { error } = await browser().client.signUp.email({ name: "X", email: uniqueEmail("caselevel"), password: PASSWORD, software_background: "Advanced" });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /software_background/ });
});

test("update-user with an unknown level is refused with 400 VALIDATION_ERROR naming the field and changes nothing", { skip }, async () => {
  const { b } = await signedUpUser({ software_background: "beginner", hardware_background: "beginner" });
  const { error } = await b.client.updateUser({ name: "Changed", hardware_background: "wizard" });
  assertError(error, { status: 400, code: "VALIDATION_ERROR", message: /hardware_background/ });
  const s = await sessionOf(b);
  assert.equal(s.user.hardware_background, "beginner");
  assert.equal(s.user.name, "Test Learner", "the valid part of a refused update is not written either");
});

test("a CORS preflight from a trusted origin answers 204 with the CORS headers", { skip }, async () => {
  const r = await raw("OPTIONS", "/sign-in/email", {
    origin: ORIGIN,
    headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  assert.ok(headerList(r.headers, "access-control-allow-methods").includes("post"), r.headers.get("access-control-allow-methods"));
  assert.ok(headerList(r.headers, "access-control-allow-headers").includes("content-type"), r.headers.get("access-control-allow-headers"));
});

test("a CORS preflight for a Bearer request allows the authorization header", { skip }, async () => {
  const r = await raw("OPTIONS", "/get-session", {
    origin: ORIGIN,
    headers: { "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
  });
  assert.equal(r.status, 204, r.text);
  assert.ok(headerList(r.headers, "access-control-allow-headers").includes("authorization"), r.headers.get("access-control-allow-headers"));
});

test("responses to a trusted origin carry Access-Control-Allow-Origin, credentials and the exposed headers", { skip }, async () => {
  const { token } = await signedUpUser();
  const r = await raw("GET", "/get-session", { origin: ORIGIN, bearer: token });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  assert.ok(headerList(r.headers, "access-control-expose-headers").includes("set-auth-jwt"));
});

test("responses that depend on the Origin say Vary: Origin", { skip }, async () => {
  const r = await raw("GET", "/ok", { origin: ORIGIN });
  assert.ok(headerList(r.headers, "vary").includes("origin") || r.headers.get("vary") === "*", `vary: ${r.headers.get("vary")}`);
});

test("error responses to a trusted origin carry the CORS headers too", { skip }, async () => {
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, body: { email: uniqueEmail("cors"), password: PASSWORD } });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(r.headers.get("access-control-allow-credentials"), "true");
});

test("an untrusted origin gets no CORS headers, on a preflight or on a request", { skip }, async () => {
  const pre = await raw("OPTIONS", "/sign-in/email", {
    origin: EVIL_ORIGIN, headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  assert.equal(pre.headers.get("access-control-allow-origin"), null);
  assert.equal(pre.headers.get("access-control-allow-credentials"), null);
  const get = await raw("GET", "/ok", { origin: EVIL_ORIGIN });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get("access-control-allow-origin"), null);
});

test("a request body over 1 MiB is refused with 413", { skip }, async () => {
  const body = JSON.stringify({ name: "x".repeat(1024 * 1024 + 1024), email: uniqueEmail("huge"), password: PASSWORD });
  let r;
  try {
    r = await raw("POST", "/sign-up/email", { origin: ORIGIN, headers: { "content-type": "application/json" }, body });
  } catch (e) {
    assert.fail(`the server dropped the connection instead of answering 413: ${e.message}`);
  }
  assert.equal(r.status, 413, r.text.slice(0, 200));
});
