// Shared helpers for the client suite: where the server is, a browser-like official client (cookie jar,
// Origin on every request), raw HTTP for what the client hides, and small assertions on cookies.
//
// Environment:
//   HALLPASS_URL    server root, the API is under /api/auth (default http://localhost:4000)
//   TRUSTED_ORIGIN  an origin the server trusts (default http://localhost:3000)
//   PEER=1          the server is the real Better Auth (tests/peer): hallpass-only checks are skipped
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { createAuthClient } from "better-auth/client";
import { inferAdditionalFields, jwtClient } from "better-auth/client/plugins";

export const BASE = (process.env.HALLPASS_URL || "http://localhost:4000").replace(/\/+$/, "");
export const ORIGIN = process.env.TRUSTED_ORIGIN || "http://localhost:3000";
export const API = `${BASE}/api/auth`;
/** The base URL's origin: JWT `iss` and `aud`, and always a trusted origin. */
export const SERVER_ORIGIN = new URL(BASE).origin;
export const IS_PEER = process.env.PEER === "1";
export const EVIL_ORIGIN = "http://evil.example";
export const PASSWORD = "correct horse battery";

// Fail fast and clearly, once per test file, when nothing is listening.
try {
  await fetch(`${API}/ok`, { signal: AbortSignal.timeout(10_000) });
} catch (e) {
  throw new Error(`no server answers at ${API}/ok (start one, or set HALLPASS_URL): ${e.cause?.code || e.message}`);
}

const secure = BASE.startsWith("https://");
export const COOKIE = {
  session: `${secure ? "__Secure-" : ""}better-auth.session_token`,
  dontRemember: `${secure ? "__Secure-" : ""}better-auth.dont_remember`,
};

/** ISO-8601 UTC with milliseconds and Z, exactly as `Date.toJSON()` writes it. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const TOKEN_32 = /^[A-Za-z0-9]{32}$/;

let counter = 0;
/** A fresh email address on every call, so tests are independent and can be rerun on one server. */
export function uniqueEmail(tag = "user") {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Parses one Set-Cookie line into {name, value, attrs} with attribute names lower-cased. */
export function parseSetCookie(line) {
  const [pair, ...rest] = line.split(";");
  const i = pair.indexOf("=");
  const attrs = {};
  for (const a of rest) {
    const j = a.indexOf("=");
    const key = (j < 0 ? a : a.slice(0, j)).trim().toLowerCase();
    if (key) attrs[key] = j < 0 ? true : a.slice(j + 1).trim();
  }
  return { name: pair.slice(0, i).trim(), value: pair.slice(i + 1).trim(), attrs };
}

/** The cookies a response sets, by name (the last one wins, as in a browser). */
export function cookiesOf(res) {
  const out = {};
  for (const line of res.headers.getSetCookie()) { const c = parseSetCookie(line); out[c.name] = c; }
  return out;
}

export function isExpiry(cookie) {
  return cookie.value === "" || cookie.attrs["max-age"] === "0";
}

/** Splits a signed cookie value (URL-encoded `token.base64sig`) into its parts. */
export function splitSigned(value) {
  const decoded = decodeURIComponent(value);
  const dot = decoded.lastIndexOf(".");
  return { token: decoded.slice(0, dot), signature: decoded.slice(dot + 1), decoded };
}

/**
 * A browser: the official client with a cookie jar and an `Origin` header on every request.
 * `last` is the last raw Response (headers readable, body already consumed by the client).
 */
export function browser({ origin = ORIGIN } = {}) {
  const jar = new Map();
  const b = {
    jar,
    last: null,
    cookieHeader: () => [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
    sessionCookie: () => jar.get(COOKIE.session),
  };
  const fetchImpl = async (input, init = {}) => {
    const headers = new Headers(init.headers || {});
    if (origin) headers.set("origin", origin);
    if (jar.size) headers.set("cookie", b.cookieHeader());
    const res = await fetch(input, { ...init, headers });
    for (const c of Object.values(cookiesOf(res))) {
      if (isExpiry(c)) jar.delete(c.name); else jar.set(c.name, c.value);
    }
    b.last = res;
    return res;
  };
  b.client = createAuthClient({
    baseURL: BASE,
    fetchOptions: { customFetchImpl: fetchImpl },
    plugins: [
      jwtClient(),
      inferAdditionalFields({
        user: {
          software_background: { type: "string", required: false },
          hardware_background: { type: "string", required: false },
        },
      }),
    ],
  });
  return b;
}

/**
 * A plain HTTP request to the API with exactly the headers given: node:http rather than fetch, because
 * fetch adds headers of its own (Sec-Fetch-Mode: cors, Accept-Language, ...) that the origin checks read.
 * `body` objects are sent as JSON; strings and bytes are sent as they are, with no content-type unless
 * one is given. Returns {status, headers (a Headers), text, json (undefined unless JSON)}.
 */
export function raw(method, path, { headers = {}, body, origin, cookie, bearer } = {}) {
  const h = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
  if (origin) h.origin = origin;
  if (cookie) h.cookie = cookie;
  if (bearer) h.authorization = `Bearer ${bearer}`;
  let payload = body;
  if (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array)) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  if (payload !== undefined) h["content-length"] = Buffer.byteLength(payload);
  const url = new URL(`${API}${path}`);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const out = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        let json;
        try { json = text === "" ? undefined : JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: out, text, json });
      });
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.end(payload);
  });
}

/** Signs a new user up in a new browser. Returns {b, email, password, user, token, res}. */
export async function signedUpUser(extra = {}, { tag = "user", password = PASSWORD } = {}) {
  const b = browser();
  const email = uniqueEmail(tag);
  const { data, error } = await b.client.signUp.email({ name: "Test Learner", email, password, ...extra });
  assert.equal(error, null, `sign-up failed: ${JSON.stringify(error)}`);
  return { b, email, password, user: data.user, token: data.token, res: b.last };
}

/** Signs an existing user in from a new browser. */
export async function signedInBrowser(email, password = PASSWORD, opts = {}) {
  const b = browser();
  const { data, error } = await b.client.signIn.email({ email, password, ...opts });
  assert.equal(error, null, `sign-in failed: ${JSON.stringify(error)}`);
  return { b, data };
}

/** The current session straight from the database (no cookie cache), or null. */
export async function sessionOf(b) {
  const { data, error } = await b.client.getSession({ query: { disableCookieCache: true } });
  assert.equal(error, null, `get-session failed: ${JSON.stringify(error)}`);
  return data;
}

/** Asserts an error object from the client: status, code (null for "no code"), and message. */
export function assertError(error, { status, code, message }) {
  assert.ok(error, "expected an error, got success");
  if (status !== undefined) assert.equal(error.status, status, JSON.stringify(error));
  if (code === null) assert.equal(error.code, undefined, `expected no code: ${JSON.stringify(error)}`);
  else if (code !== undefined) assert.equal(error.code, code, JSON.stringify(error));
  if (message instanceof RegExp) assert.match(error.message, message);
  else if (message !== undefined) assert.equal(error.message, message);
}

/** Seconds from now until a Date or ISO string. */
export function secondsUntil(when) {
  return (new Date(when).getTime() - Date.now()) / 1000;
}

/** The comma-separated tokens of a header, lower-cased. */
export function headerList(headers, name) {
  return (headers.get(name) || "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
}
