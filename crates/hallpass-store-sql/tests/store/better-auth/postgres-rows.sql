-- Rows as Better Auth writes them through `pg` (reference, 6.1 "Example rows", in PostgreSQL's
-- types): `Date`s sent with their offset, native booleans, empty IP and agent, the private key as
-- a JSON string.
insert into "user" values ('YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', 'A', 'a@example.com', true, null, '2026-11-22T02:02:43.318+00:00', '2026-11-22T04:05:00.001+02:00', 'intermediate', null);
insert into "session" values ('F9O7mwBqm69dKN30eBix5cEzZtcPAvKC', '2026-11-29T02:02:43.322+00:00', 'GHb7zBCzNQ9gpAhDeSL17U5xvGBS8HOg', '2026-11-22T02:02:43.322+00:00', '2026-11-22T02:02:43.322+00:00', '', '', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X');
insert into "account" values ('eKmOVHy2ragURXrHmsue0uiauadlQIfD', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', 'credential', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', null, null, null, null, null, null, '92a6f8dd7af64791d43e735868787f52:ef81', '2026-11-22T02:02:43.320+00:00', '2026-11-22T02:02:43.320+00:00');
insert into "jwks" values ('f8sI4XDXZIIc69xeEMPNKnXzeqVFVF8T', '{"crv":"Ed25519","x":"IUDv","kty":"OKP"}', '"a5c463d8"', '2026-11-22T02:02:43.500+00:00', null, 'EdDSA', 'Ed25519');
