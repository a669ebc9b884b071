// Drop-in, both directions, on SQLite and on PostgreSQL: a database that a real Better Auth 1.7.24
// server created and filled is opened by hallpass with the same secret (passwords, sessions, cookies,
// profile columns and signing keys all keep working), and what hallpass writes works on Better Auth.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { Browser, startHallpass, startPeer, tempDir, freshPgDatabase, unique } from "./lib.mjs";

const backends = [
  { name: "SQLite", make: () => { const t = tempDir(); const file = `${t.dir}/shared.db`; return { peer: { sqlite: file }, hallpass: `sqlite://${file}`, cleanup: t.remove }; } },
  { name: "PostgreSQL", make: () => { const db = freshPgDatabase("hp_dropin"); return { peer: { pg: db.url }, hallpass: db.url, cleanup: db.drop }; } },
];

for (const backend of backends) {
  describe(`drop-in on ${backend.name}`, () => {
    const id = unique();
    const alice = { email: `alice${id}@example.com`, password: "alice password 1" };
    const carol = { email: `carol${id}@example.com`, password: "carol password 1" };
    let db, peer, hallpass;
    let aliceAtPeer, aliceId, peerKid, peerJwt, carolAtHallpass;

    before(async () => {
      db = backend.make();
      peer = await startPeer(db.peer);
      aliceAtPeer = new Browser(peer.url);
      const up = await aliceAtPeer.post("/sign-up/email", { name: "Alice", ...alice, software_background: "intermediate", hardware_background: "beginner" });
      assert.equal(up.status, 200, JSON.stringify(up.body));
      aliceId = up.body.user.id;
      const jwks = await aliceAtPeer.get("/jwks");
      peerKid = jwks.body.keys[0].kid;
      peerJwt = (await aliceAtPeer.get("/token")).body.token;
      await peer.stop();
      hallpass = await startHallpass({ databaseUrl: db.hallpass });
    });

    after(async () => {
      await hallpass?.stop();
      await peer?.stop();
      db?.cleanup();
    });

    test("a Better Auth user signs in to hallpass with their password", async () => {
      const b = new Browser(hallpass.url);
      const r = await b.post("/sign-in/email", alice);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.user.id, aliceId);
    });

    test("a Better Auth session cookie stays valid on hallpass, with the profile columns", async () => {
      const r = await aliceAtPeer.at(hallpass.url).get("/get-session");
      assert.equal(r.body?.user?.id, aliceId, JSON.stringify(r.body));
      assert.equal(r.body.user.software_background, "intermediate");
      assert.equal(r.body.user.hardware_background, "beginner");
    });

    test("hallpass updates the profile columns Better Auth created", async () => {
      const b = aliceAtPeer.at(hallpass.url);
      const r = await b.post("/update-user", { hardware_background: "advanced" });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((await b.get("/get-session")).body.user.hardware_background, "advanced");
    });

    test("Better Auth's signing key is published and used by hallpass", async () => {
      const jwks = (await new Browser(hallpass.url).get("/jwks")).body;
      assert.ok(jwks.keys.some((k) => k.kid === peerKid), JSON.stringify(jwks));
      const keys = createLocalJWKSet(jwks);
      const fromPeer = await jwtVerify(peerJwt, keys);
      assert.equal(fromPeer.payload.sub, aliceId);
      const mine = (await aliceAtPeer.at(hallpass.url).get("/token")).body.token;
      assert.equal(decodeProtectedHeader(mine).kid, peerKid, "hallpass signs with the key Better Auth made");
      assert.equal((await jwtVerify(mine, keys)).payload.sub, aliceId);
    });

    test("and back: users, passwords, sessions and profiles written by hallpass work on Better Auth", async () => {
      carolAtHallpass = new Browser(hallpass.url);
      const up = await carolAtHallpass.post("/sign-up/email", { name: "Carol", ...carol, software_background: "advanced" });
      assert.equal(up.status, 200, JSON.stringify(up.body));
      const aliceAtHallpass = new Browser(hallpass.url);
      await aliceAtHallpass.post("/sign-in/email", alice);
      const cp = await aliceAtHallpass.post("/change-password", { currentPassword: alice.password, newPassword: "alice password 2" });
      assert.equal(cp.status, 200, JSON.stringify(cp.body));
      await hallpass.stop();

      peer = await startPeer({ ...db.peer, port: peer.port });
      const carolAtPeer = carolAtHallpass.at(peer.url);
      const s = await carolAtPeer.get("/get-session");
      assert.equal(s.body?.user?.email, carol.email, JSON.stringify(s.body));
      assert.equal(s.body.user.software_background, "advanced");
      const signIn = await new Browser(peer.url).post("/sign-in/email", carol);
      assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
      const newPw = await new Browser(peer.url).post("/sign-in/email", { email: alice.email, password: "alice password 2" });
      assert.equal(newPw.status, 200, JSON.stringify(newPw.body));
      assert.equal(newPw.body.user.hardware_background, "advanced");
      const oldPw = await new Browser(peer.url).post("/sign-in/email", alice);
      assert.equal(oldPw.status, 401);
      await peer.stop();
      hallpass = await startHallpass({ databaseUrl: db.hallpass });
    });
  });
}
