// A real Better Auth 1.7.24 server set up the way hallpass is by default: email and password, the
// profile fields software_background and hardware_background (optional strings, no level check: that
// is hallpass's own addition), bearer() and jwt(). The project's drop-in tests and benchmarks start it
// through ./run; nothing here is hallpass code.
//
// Environment:
//   PORT             port on 127.0.0.1 (default 4100; ./run also takes it as its first argument)
//   DB               SQLite file (default better-auth.sqlite in the current folder), opened in WAL mode
//   PG_URL           a PostgreSQL URL, used instead of DB
//   SECRET           the Better Auth secret (default: a fixed development secret)
//   BASE_URL         default http://localhost:PORT; its origin is JWT iss/aud and a trusted origin
//   TRUSTED_ORIGINS  comma-separated (default http://localhost:3000)
//   JWT=0            leave out the jwt plugin
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { bearer, jwt } from "better-auth/plugins";
import Database from "better-sqlite3";
import pg from "pg";
import { Hono } from "hono";
import { serve } from "@hono/node-server";

const port = Number(process.env.PORT || 4100);
const baseURL = process.env.BASE_URL || `http://localhost:${port}`;
const trustedOrigins = (process.env.TRUSTED_ORIGINS || "http://localhost:3000")
  .split(",").map((s) => s.trim()).filter(Boolean);

function openDatabase() {
  if (process.env.PG_URL) {
    const pool = new pg.Pool({ connectionString: process.env.PG_URL });
    return { database: pool, describe: "PostgreSQL", close: () => pool.end() };
  }
  const file = process.env.DB || "better-auth.sqlite";
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  return { database: db, describe: `SQLite ${file}`, close: () => db.close() };
}

const store = openDatabase();
const auth = betterAuth({
  database: store.database,
  secret: process.env.SECRET || "peer-development-secret-0123456789-abcdefghijkl",
  baseURL,
  trustedOrigins,
  emailAndPassword: { enabled: true },
  user: {
    additionalFields: {
      software_background: { type: "string", required: false },
      hardware_background: { type: "string", required: false },
    },
  },
  plugins: process.env.JWT === "0" ? [bearer()] : [bearer(), jwt()],
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const app = new Hono();
// Every method goes to Better Auth, so OPTIONS gets Better Auth's own answer (404) as in production.
app.all("/api/auth/*", (c) => auth.handler(c.req.raw));

const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`better-auth peer listening on http://127.0.0.1:${info.port} (base URL ${baseURL}, ${store.describe}, trusted origins ${trustedOrigins.join(" ")})`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(async () => {
    await store.close();
    process.exit(0);
  });
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
