// General HTTP conventions: /ok, unknown paths, request bodies and the error shape.
import { test } from "node:test";
import assert from "node:assert/strict";
import { browser, raw, ORIGIN } from "./lib.mjs";

test("GET /ok answers 200 {ok:true}", async () => {
  const r = await raw("GET", "/ok");
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { ok: true });
  assert.match(r.headers.get("content-type") || "", /^application\/json/);
});

test("the client's own request to /ok works", async () => {
  const { data, error } = await browser().client.$fetch("/ok");
  assert.equal(error, null);
  assert.deepEqual(data, { ok: true });
});

test("an unknown path answers 404", async () => {
  const r = await raw("GET", "/no-such-endpoint");
  assert.equal(r.status, 404);
});

test("a known path with the wrong method answers 404", async () => {
  assert.equal((await raw("GET", "/sign-in/email")).status, 404);
  assert.equal((await raw("POST", "/jwks", { origin: ORIGIN, body: {} })).status, 404);
});

test("a path with a trailing slash answers 404", async () => {
  assert.equal((await raw("GET", "/get-session/")).status, 404);
});

test("forget-password, removed in Better Auth 1.7, answers 404", async () => {
  const r = await raw("POST", "/forget-password", { origin: ORIGIN, body: { email: "a@example.com" } });
  assert.equal(r.status, 404);
});

test("malformed JSON is refused with 400 BAD_REQUEST", async () => {
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, headers: { "content-type": "application/json" }, body: "{not json" });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(r.json, { message: "Invalid JSON in request body", code: "BAD_REQUEST" });
});

test("a text/plain body is refused with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, headers: { "content-type": "text/plain" }, body: "hello" });
  assert.equal(r.status, 415, r.text);
  assert.equal(r.json.code, "UNSUPPORTED_MEDIA_TYPE");
  assert.match(r.json.message, /text\/plain/);
});

test("a body without a content type is refused with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
  // fetch sends a Uint8Array body with no content-type at all.
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, body: new TextEncoder().encode("{}") });
  assert.equal(r.status, 415, r.text);
  assert.equal(r.json.code, "UNSUPPORTED_MEDIA_TYPE");
});

test("a JSON body that is not an object is refused with 400", async () => {
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, headers: { "content-type": "application/json" }, body: "[1,2]" });
  assert.equal(r.status, 400, r.text);
  assert.equal(typeof r.json.message, "string");
});

test("sign-in with the fields missing is refused with 400 VALIDATION_ERROR naming them", async () => {
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, body: {} });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.code, "VALIDATION_ERROR");
  assert.match(r.json.message, /email/);
  assert.match(r.json.message, /password/);
});

test("errors are JSON objects with a message and a code", async () => {
  const r = await raw("POST", "/sign-in/email", { origin: ORIGIN, body: { email: "nobody@example.com", password: "whatever123" } });
  assert.equal(r.status, 401);
  assert.match(r.headers.get("content-type") || "", /^application\/json/);
  assert.deepEqual(Object.keys(r.json).sort(), ["code", "message"]);
});
