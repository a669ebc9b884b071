// Bearer tokens (set-auth-token, Authorization: Bearer) and the JWT plugin (/token, /jwks, set-auth-jwt).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import {
  browser, signedUpUser, raw, headerList, assertError, splitSigned,
  SERVER_ORIGIN, PASSWORD, ORIGIN,
} from "./lib.mjs";

async function jwks() {
  const r = await raw("GET", "/jwks");
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function verify(token) {
  return jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: SERVER_ORIGIN, audience: SERVER_ORIGIN });
}

test("sign-in sends set-auth-token with the signed token and exposes it to scripts", async () => {
  const { email } = await signedUpUser();
  const b = browser();
  let header = null;
  const { data } = await b.client.signIn.email({ email, password: PASSWORD }, {
    onSuccess: (ctx) => { header = ctx.response.headers.get("set-auth-token"); },
  });
  assert.ok(header, "set-auth-token is present");
  assert.equal(header, splitSigned(b.sessionCookie()).decoded, "it is the cookie value, URL-decoded");
  assert.ok(header.startsWith(`${data.token}.`));
  assert.ok(headerList(b.last.headers, "access-control-expose-headers").includes("set-auth-token"));
});

test("sign-up sends set-auth-token too", async () => {
  const { res, token } = await signedUpUser();
  assert.ok((res.headers.get("set-auth-token") || "").startsWith(`${token}.`));
  assert.ok(headerList(res.headers, "access-control-expose-headers").includes("set-auth-token"));
});

test("get-session accepts the signed token as Authorization: Bearer", async () => {
  const { res, user } = await signedUpUser();
  const r = await raw("GET", "/get-session", { bearer: res.headers.get("set-auth-token") });
  assert.equal(r.json?.user?.id, user.id, r.text);
});

test("get-session accepts the URL-encoded signed token as Authorization: Bearer", async () => {
  const { res, user } = await signedUpUser();
  const r = await raw("GET", "/get-session", { bearer: encodeURIComponent(res.headers.get("set-auth-token")) });
  assert.equal(r.json?.user?.id, user.id, r.text);
});

test("get-session accepts the raw session token as Authorization: Bearer", async () => {
  const { token, user } = await signedUpUser();
  const r = await raw("GET", "/get-session", { bearer: token });
  assert.equal(r.json?.user?.id, user.id, r.text);
  assert.equal(r.json.session.token, token);
});

test("get-session with a Bearer token whose signature is wrong answers null", async () => {
  const { token } = await signedUpUser();
  const r = await raw("GET", "/get-session", { bearer: `${token}.${"A".repeat(43)}=` });
  assert.equal(r.status, 200);
  assert.equal(r.text, "null");
});

test("the client's auth option sends the Bearer token and works without cookies", async () => {
  const { res, user } = await signedUpUser();
  const stored = res.headers.get("set-auth-token");
  const b = browser();
  const { data } = await b.client.getSession({ fetchOptions: { auth: { type: "Bearer", token: () => stored } } });
  assert.equal(data?.user?.id, user.id);
});

test("a Bearer-authenticated POST needs no Origin header", async () => {
  const { token, b } = await signedUpUser();
  const r = await raw("POST", "/update-user", { bearer: token, body: { name: "From a service" } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: true });
  const s = await raw("GET", "/get-session", { cookie: b.cookieHeader() });
  assert.equal(s.json.user.name, "From a service");
});

test("jwks publishes an Ed25519 public key with a kid", async () => {
  const { keys } = await jwks();
  assert.ok(Array.isArray(keys) && keys.length >= 1);
  for (const k of keys) {
    assert.equal(k.kty, "OKP");
    assert.equal(k.crv, "Ed25519");
    assert.equal(k.alg, "EdDSA");
    assert.match(k.x, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(typeof k.kid, "string");
    assert.equal("d" in k, false, "no private part");
  }
});

test("GET /token gives an EdDSA JWT that verifies against /jwks with the user and the profile", async () => {
  const { b, user } = await signedUpUser({ software_background: "intermediate", hardware_background: "none" });
  const { data, error } = await b.client.token();
  assert.equal(error, null, JSON.stringify(error));
  const header = decodeProtectedHeader(data.token);
  assert.equal(header.alg, "EdDSA");
  assert.ok((await jwks()).keys.some((k) => k.kid === header.kid), "kid names a published key");
  const { payload } = await verify(data.token);
  assert.equal(payload.sub, user.id);
  assert.equal(payload.id, user.id);
  assert.equal(payload.iss, SERVER_ORIGIN);
  assert.equal(payload.aud, SERVER_ORIGIN);
  assert.equal(payload.exp - payload.iat, 900);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60, "iat is now");
  assert.equal(payload.email, user.email);
  assert.equal(payload.name, user.name);
  assert.equal(payload.emailVerified, false);
  assert.equal(payload.software_background, "intermediate");
  assert.equal(payload.hardware_background, "none");
});

test("the JWT carries the profile as it is after update-user", async () => {
  const { b } = await signedUpUser({ software_background: "none" });
  await b.client.updateUser({ software_background: "advanced" });
  const { data } = await b.client.token();
  const { payload } = await verify(data.token);
  assert.equal(payload.software_background, "advanced");
});

test("GET /token without a session is refused with 401 UNAUTHORIZED", async () => {
  const { error } = await browser().client.token();
  assertError(error, { status: 401, code: "UNAUTHORIZED" });
});

test("get-session sends set-auth-jwt, a verifiable JWT for the user, and exposes it", async () => {
  const { token, user } = await signedUpUser({ hardware_background: "beginner" });
  const r = await raw("GET", "/get-session", { bearer: token, origin: ORIGIN });
  const jwt = r.headers.get("set-auth-jwt");
  assert.ok(jwt && jwt.split(".").length === 3, `set-auth-jwt: ${jwt}`);
  assert.ok(headerList(r.headers, "access-control-expose-headers").includes("set-auth-jwt"));
  const { payload } = await verify(jwt);
  assert.equal(payload.sub, user.id);
  assert.equal(payload.hardware_background, "beginner");
});

test("get-session without a session sends no set-auth-jwt", async () => {
  const r = await raw("GET", "/get-session");
  assert.equal(r.headers.get("set-auth-jwt"), null);
});
