// Shared helpers: start real processes (hallpass, the pinned Better Auth peer), talk to them like a
// browser (cookie jar, Origin), and make throwaway databases.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const ORIGIN = "http://localhost:3000";
export const SECRET = "interop-secret-0123456789-abcdefghijklmnopqrstuv";

export function hallpassBin() {
  const bin = process.env.HALLPASS_BIN;
  if (!bin) throw new Error("set HALLPASS_BIN to the hallpass binary (scripts/test does)");
  return bin;
}

export function pgUrl() {
  return process.env.HALLPASS_TEST_PG || "postgres://postgres@127.0.0.1:5432/test";
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "hallpass-interop-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function waitFor(url, child, log, ms = 60000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before answering ${url}:\n${log()}`);
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${url}:\n${log()}`);
}

function launch(cmd, args, env, readyUrl) {
  let out = "";
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10000).unref();
  });
  return { child, stop, log: () => out, ready: () => waitFor(readyUrl, child, () => out) };
}

/** Starts `hallpass serve` on a free port with the given database. */
export async function startHallpass({ databaseUrl, secret = SECRET, extraEnv = {} }) {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const p = launch(hallpassBin(), ["serve"], {
    HALLPASS_LISTEN: `127.0.0.1:${port}`, HALLPASS_BASE_URL: url, HALLPASS_SECRET: secret,
    DATABASE_URL: databaseUrl, HALLPASS_TRUSTED_ORIGINS: ORIGIN, RUST_LOG: "warn", ...extraEnv,
  }, `${url}/api/auth/ok`);
  await p.ready();
  return { url, port, ...p };
}

/** Starts the pinned real Better Auth 1.7.24 server (tests/peer) on a free port. */
export async function startPeer({ sqlite, pg, secret = SECRET, port }) {
  port = port || await freePort();
  const url = `http://localhost:${port}`;
  const env = { SECRET: secret, TRUSTED_ORIGINS: ORIGIN, BASE_URL: url };
  if (pg) env.PG_URL = pg; else env.DB = sqlite;
  const p = launch("bash", [join(here, "..", "peer", "run"), String(port)], env, `${url}/api/auth/ok`);
  await p.ready();
  return { url, port, ...p };
}

/** Runs the hallpass CLI against a database. */
export function cli(args, databaseUrl, extraEnv = {}) {
  return execFileSync(hallpassBin(), args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, HALLPASS_SECRET: SECRET, RUST_LOG: "warn", ...extraEnv },
    encoding: "utf8",
  });
}

/** A fresh PostgreSQL database; returns its URL and a drop function. */
export function freshPgDatabase(prefix) {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  psql(pgUrl(), `create database ${name}`);
  const u = new URL(pgUrl());
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => psql(pgUrl(), `drop database if exists ${name} with (force)`) };
}

export function psql(url, sql) {
  return execFileSync("psql", [url, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql], { encoding: "utf8" }).trim();
}

/** A browser-like client: keeps cookies, sends Origin on every request. */
export class Browser {
  constructor(base) { this.base = base; this.jar = new Map(); this.last = null; }
  cookieHeader() { return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; "); }
  async request(method, path, body) {
    const headers = { origin: ORIGIN };
    if (this.jar.size) headers.cookie = this.cookieHeader();
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.base}/api/auth${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === "") this.jar.delete(name); else this.jar.set(name, value);
    }
    const text = await res.text();
    this.last = res;
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  }
  get(path) { return this.request("GET", path); }
  post(path, body = {}) { return this.request("POST", path, body); }
  /** The same cookies, talking to another server (same site: cookies ignore ports). */
  at(base) { const b = new Browser(base); b.jar = new Map(this.jar); return b; }
}

export const unique = () => `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
