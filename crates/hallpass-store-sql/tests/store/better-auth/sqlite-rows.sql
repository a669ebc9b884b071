-- Rows as Better Auth writes them (reference, 6.1 "Example rows"): ISO dates with milliseconds,
-- booleans 0/1, empty IP and agent, the private key as a JSON string.
insert into "user" values ('YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', 'A', 'a@example.com', 1, null, '2026-11-22T02:02:43.318Z', '2026-11-22T02:05:00.001Z', 'intermediate', null);
insert into "session" values ('F9O7mwBqm69dKN30eBix5cEzZtcPAvKC', '2026-11-29T02:02:43.322Z', 'GHb7zBCzNQ9gpAhDeSL17U5xvGBS8HOg', '2026-11-22T02:02:43.322Z', '2026-11-22T02:02:43.322Z', '', '', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X');
insert into "account" values ('eKmOVHy2ragURXrHmsue0uiauadlQIfD', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', 'credential', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', null, null, null, null, null, null, '92a6f8dd7af64791d43e735868787f52:ef81', '2026-11-22T02:02:43.320Z', '2026-11-22T02:02:43.320Z');
insert into "jwks" values ('f8sI4XDXZIIc69xeEMPNKnXzeqVFVF8T', '{"crv":"Ed25519","x":"IUDv","kty":"OKP"}', '"a5c463d8"', '2026-11-22T02:02:43.500Z', null, 'EdDSA', 'Ed25519');
