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
//   SMTP_URL         smtp://HOST:PORT (nodemailer's URL form): mail the password reset, email verification
//                    and change-email links through it, and enable change-email and delete-user (see
//                    mailOptions below). Unset: no mail, and those endpoints stay off, as in a bare Better Auth.
//   MAIL_FROM        the From of that mail (default "Hallpass Peer <no-reply@example.com>")
//   REQUIRE_VERIFICATION=1  with SMTP_URL: emailAndPassword.requireEmailVerification
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { bearer, jwt } from "better-auth/plugins";
import Database from "better-sqlite3";
import pg from "pg";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import nodemailer from "nodemailer";

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

// With SMTP_URL: the account life-cycle endpoints, with their links sent as real mail (plain text and
// HTML, the link in both). Sent before the endpoint answers, so an SMTP failure fails the request.
function mailOptions() {
  if (!process.env.SMTP_URL) return {};
  const transport = nodemailer.createTransport(process.env.SMTP_URL);
  const from = process.env.MAIL_FROM || "Hallpass Peer <no-reply@example.com>";
  const escape = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const send = (to, subject, lead, url) => transport.sendMail({
    from, to, subject,
    text: `${lead}\n\n${url}\n`,
    html: `<p>${escape(lead)}</p><p><a href="${escape(url)}">${escape(url)}</a></p>`,
  });
  return {
    emailAndPassword: {
      requireEmailVerification: process.env.REQUIRE_VERIFICATION === "1",
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: async ({ user, url }) =>
        send(user.email, "Reset your password", "Open this link to choose a new password:", url),
    },
    emailVerification: {
      sendOnSignUp: false,
      autoSignInAfterVerification: false,
      sendVerificationEmail: async ({ user, url }) =>
        send(user.email, "Verify your email address", "Open this link to verify your email address:", url),
    },
    user: { changeEmail: { enabled: true }, deleteUser: { enabled: true } },
  };
}

const store = openDatabase();
const mail = mailOptions();
const auth = betterAuth({
  database: store.database,
  secret: process.env.SECRET || "peer-development-secret-0123456789-abcdefghijkl",
  baseURL,
  trustedOrigins,
  emailAndPassword: { enabled: true, ...mail.emailAndPassword },
  ...(mail.emailVerification ? { emailVerification: mail.emailVerification } : {}),
  user: {
    ...mail.user,
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
  const mailing = process.env.SMTP_URL
    ? `, mail through ${process.env.SMTP_URL}${process.env.REQUIRE_VERIFICATION === "1" ? ", email verification required" : ""}`
    : "";
  console.log(`better-auth peer listening on http://127.0.0.1:${info.port} (base URL ${baseURL}, ${store.describe}, trusted origins ${trustedOrigins.join(" ")}${mailing})`);
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
