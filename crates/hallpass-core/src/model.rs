//! The records hallpass keeps, as Better Auth's `user` and `session` tables hold them, and their
//! JSON output as Better Auth's API returns them (camelCase keys, ISO dates, profile fields inline).

use crate::clock::{to_iso, Timestamp};
use serde::ser::{SerializeMap, Serializer};
use serde_json::{json, Map, Value};

/// A user row. `profile` holds the configured profile columns, in schema order.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// 32-character id.
    pub id: String,
    /// Display name (may be empty, as in Better Auth).
    pub name: String,
    /// Lower-cased email.
    pub email: String,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Avatar URL, if any.
    pub image: Option<String>,
    /// When the user was created.
    pub created_at: Timestamp,
    /// When the user was last changed.
    pub updated_at: Timestamp,
    /// Profile values by field key; `Value::Null` when unset.
    pub profile: Map<String, Value>,
}

impl User {
    /// The user object of Better Auth's API (section 2.1 of the reference).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("email".into(), json!(self.email));
        m.insert("emailVerified".into(), json!(self.email_verified));
        m.insert("image".into(), json!(self.image));
        m.insert("createdAt".into(), json!(to_iso(&self.created_at)));
        m.insert("updatedAt".into(), json!(to_iso(&self.updated_at)));
        for (k, v) in &self.profile {
            m.insert(k.clone(), v.clone());
        }
        m.insert("id".into(), json!(self.id));
        Value::Object(m)
    }
}

impl User {
    /// The keys [`User::to_json`] writes besides the profile's.
    const KEYS: [&'static str; 7] = [
        "name",
        "email",
        "emailVerified",
        "image",
        "createdAt",
        "updatedAt",
        "id",
    ];

    /// Whether a profile key is also one of `keys` or of the user object's own: then the direct
    /// writers below would not write what the `Value` path writes (a map keeps the first
    /// position and the last value), so callers take that path. Profile validation refuses the
    /// user object's keys, so this is for claims and for rows of another configuration.
    pub fn profile_collides(&self, keys: &[&str]) -> bool {
        self.profile
            .keys()
            .any(|k| Self::KEYS.contains(&k.as_str()) || keys.contains(&k.as_str()))
    }

    /// Writes the fields of [`User::to_json`] into a map being serialized, in the same order.
    /// Callers check [`User::profile_collides`] first.
    pub fn write_fields<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("email", &self.email)?;
        m.serialize_entry("emailVerified", &self.email_verified)?;
        m.serialize_entry("image", &self.image)?;
        m.serialize_entry("createdAt", &to_iso(&self.created_at))?;
        m.serialize_entry("updatedAt", &to_iso(&self.updated_at))?;
        for (k, v) in &self.profile {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("id", &self.id)
    }
}

/// [`User::write_fields`] as a JSON object.
struct UserObject<'a>(&'a User);

impl serde::Serialize for UserObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.0.write_fields(&mut m)?;
        m.end()
    }
}

/// [`Session::to_json`] written directly.
struct SessionObject<'a>(&'a Session);

impl serde::Serialize for SessionObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let session = self.0;
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("expiresAt", &to_iso(&session.expires_at))?;
        m.serialize_entry("token", &session.token)?;
        m.serialize_entry("createdAt", &to_iso(&session.created_at))?;
        m.serialize_entry("updatedAt", &to_iso(&session.updated_at))?;
        m.serialize_entry("ipAddress", &session.ip_address)?;
        m.serialize_entry("userAgent", &session.user_agent)?;
        m.serialize_entry("userId", &session.user_id)?;
        m.serialize_entry("id", &session.id)?;
        m.end()
    }
}

/// A session row.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// 32-character row id.
    pub id: String,
    /// 32-character bearer secret; what the cookie carries, signed.
    pub token: String,
    /// The owner.
    pub user_id: String,
    /// When the session stops being valid.
    pub expires_at: Timestamp,
    /// When the session was created (freshness is measured from here).
    pub created_at: Timestamp,
    /// When the session was last extended.
    pub updated_at: Timestamp,
    /// Client IP, or `""` when unknown (Better Auth stores an empty string, not NULL).
    pub ip_address: String,
    /// Client user agent, or `""`.
    pub user_agent: String,
}

impl Session {
    /// The session object of Better Auth's API; it includes the raw token, as Better Auth's does.
    pub fn to_json(&self) -> Value {
        json!({
            "expiresAt": to_iso(&self.expires_at),
            "token": self.token,
            "createdAt": to_iso(&self.created_at),
            "updatedAt": to_iso(&self.updated_at),
            "ipAddress": self.ip_address,
            "userAgent": self.user_agent,
            "userId": self.user_id,
            "id": self.id,
        })
    }
}

/// A session with its user, as get-session answers.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionWithUser {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
}

impl SessionWithUser {
    /// `{"session": …, "user": …}`.
    pub fn to_json(&self) -> Value {
        json!({ "session": self.session.to_json(), "user": self.user.to_json() })
    }

    /// [`SessionWithUser::to_json`] as bytes, the same bytes `serde_json::to_vec` writes for it,
    /// written without building the `Value` first (a session check read from the database
    /// renders one; the `Value` costs some 40 allocations).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let by_value = || serde_json::to_vec(&self.to_json()).unwrap_or_default();
        if self.user.profile_collides(&[]) {
            return by_value();
        }
        json_object(|m| {
            m.serialize_entry("session", &SessionObject(&self.session))?;
            m.serialize_entry("user", &UserObject(&self.user))
        })
        .unwrap_or_else(by_value)
    }
}

/// The map a [`json_object`] writer fills.
type ObjectWriter<'a> =
    serde_json::ser::Compound<'a, &'a mut Vec<u8>, serde_json::ser::CompactFormatter>;

/// A JSON object written straight to bytes by `fields`, as `serde_json::to_vec` writes one;
/// `None` if writing failed (strings, numbers and JSON values into a `Vec` do not fail).
fn json_object(
    fields: impl FnOnce(&mut ObjectWriter<'_>) -> Result<(), serde_json::Error>,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    let mut ser = serde_json::Serializer::new(&mut out);
    let mut m = ser.serialize_map(None).ok()?;
    fields(&mut m).ok()?;
    m.end().ok()?;
    Some(out)
}

/// What a JWT's claims take besides the session and user: issue time (epoch seconds), lifetime in
/// seconds, issuer and audience.
#[derive(Clone, Copy, Debug)]
pub struct ClaimTerms<'a> {
    /// `iat`.
    pub iat: i64,
    /// `exp` is `iat` plus this.
    pub ttl: i64,
    /// `iss`.
    pub issuer: &'a str,
    /// `aud`.
    pub audience: &'a str,
}

impl SessionWithUser {
    /// The claims of a JWT about this session's user: `iat`, the user object, `sub`, `sid`,
    /// `exp`, `iss`, `aud` (a profile key equal to one of them gives way to the claim, where the
    /// profile key stands).
    pub fn jwt_claims(&self, terms: &ClaimTerms<'_>) -> Value {
        let user = &self.user;
        let mut claims = Map::new();
        claims.insert("iat".into(), Value::from(terms.iat));
        if let Value::Object(u) = user.to_json() {
            claims.extend(u);
        }
        claims.insert("sub".into(), Value::String(user.id.clone()));
        claims.insert("sid".into(), Value::String(self.session.id.clone()));
        claims.insert("exp".into(), Value::from(terms.iat + terms.ttl));
        claims.insert("iss".into(), Value::String(terms.issuer.to_owned()));
        claims.insert("aud".into(), Value::String(terms.audience.to_owned()));
        Value::Object(claims)
    }

    /// [`SessionWithUser::jwt_claims`] as the bytes `serde_json::to_vec` writes for them, written
    /// without building the `Value` (what every session check read from the database signs).
    pub fn jwt_claims_bytes(&self, terms: &ClaimTerms<'_>) -> Vec<u8> {
        const CLAIMS: [&str; 6] = ["iat", "sub", "sid", "exp", "iss", "aud"];
        let user = &self.user;
        let by_value = || serde_json::to_vec(&self.jwt_claims(terms)).unwrap_or_default();
        if user.profile_collides(&CLAIMS) {
            return by_value();
        }
        json_object(|m| {
            m.serialize_entry("iat", &terms.iat)?;
            user.write_fields(m)?;
            m.serialize_entry("sub", &user.id)?;
            m.serialize_entry("sid", &self.session.id)?;
            m.serialize_entry("exp", &(terms.iat + terms.ttl))?;
            m.serialize_entry("iss", terms.issuer)?;
            m.serialize_entry("aud", terms.audience)
        })
        .unwrap_or_else(by_value)
    }
}

/// The credential account row that holds a user's password hash.
#[derive(Clone, Debug)]
pub struct CredentialAccount {
    /// 32-character row id.
    pub id: String,
    /// The owner (also the `accountId`, as Better Auth writes credential accounts).
    pub user_id: String,
    /// The password hash.
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// What an update changes; `None` leaves a column as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserChanges {
    /// New name.
    pub name: Option<String>,
    /// New image; `Some(None)` clears it.
    pub image: Option<Option<String>>,
    /// New profile values by key.
    pub profile: Map<String, Value>,
    /// New email (server-side only: a confirmed change of address), lower-cased.
    pub email: Option<String>,
    /// New emailVerified flag (server-side only).
    pub email_verified: Option<bool>,
    /// The update time.
    pub updated_at: Option<Timestamp>,
}

impl UserChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.email.is_none()
            && self.image.is_none()
            && self.profile.is_empty()
            && self.email_verified.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_iso;

    #[test]
    fn user_json_has_better_auth_keys_and_profile_fields() {
        let t = parse_iso("2026-11-22T02:02:43.408Z").unwrap();
        let mut profile = Map::new();
        profile.insert("software_background".into(), json!("beginner"));
        let u = User {
            id: "u1".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            email_verified: false,
            image: None,
            created_at: t,
            updated_at: t,
            profile,
        };
        assert_eq!(
            u.to_json(),
            json!({"name":"Ada","email":"ada@example.com","emailVerified":false,"image":null,
                   "createdAt":"2026-11-22T02:02:43.408Z","updatedAt":"2026-11-22T02:02:43.408Z",
                   "software_background":"beginner","id":"u1"})
        );
    }

    fn answer(image: Option<&str>, profile: Value, odd: &str) -> SessionWithUser {
        let t = parse_iso("2026-11-22T02:02:43.408Z").unwrap();
        let later = parse_iso("2026-12-05T23:59:59.999Z").unwrap();
        let Value::Object(profile) = profile else {
            panic!("a profile is an object")
        };
        SessionWithUser {
            session: Session {
                id: "s1".into(),
                token: "PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ".into(),
                user_id: "u1".into(),
                expires_at: later,
                created_at: t,
                updated_at: later,
                ip_address: "::1".into(),
                user_agent: format!("agent {odd}"),
            },
            user: User {
                id: "u1".into(),
                name: odd.into(),
                email: "ada@example.com".into(),
                email_verified: true,
                image: image.map(str::to_owned),
                created_at: t,
                updated_at: later,
                profile,
            },
        }
    }

    /// The answer written directly is byte for byte what the `Value` path writes: key order,
    /// escapes, nulls, numbers, profile fields in schema order, and a profile key that repeats
    /// one of the user object's (which takes the `Value` path).
    #[test]
    fn session_answer_bytes_are_those_of_the_value() {
        let odd = "Zoë \"quoted\" \\ back\u{1}\u{7f}\u{2028}\u{1F600} </script>";
        let cases = [
            answer(None, json!({}), "Ada"),
            answer(Some("https://example.com/a.png?x=1&y=2"), json!({}), odd),
            answer(
                None,
                json!({"software_background": "beginner", "hardware_background": null,
                       "years": 3, "ratio": 2.5, "mentor": false, "notes": odd}),
                odd,
            ),
            answer(None, json!({"z_last": "z", "a_first": "a"}), ""),
            answer(
                None,
                json!({"hardware_background": "advanced", "id": "spoofed"}),
                "Ada",
            ),
            answer(None, json!({"name": "other", "email": 1}), "Ada"),
        ];
        for (i, case) in cases.iter().enumerate() {
            let expected = serde_json::to_vec(&case.to_json()).unwrap();
            assert_eq!(
                String::from_utf8(case.to_json_bytes()).unwrap(),
                String::from_utf8(expected).unwrap(),
                "case {i}"
            );
        }
        let terms = ClaimTerms {
            iat: 1_764_945_024,
            ttl: 900,
            issuer: "http://localhost:4000",
            audience: "http://localhost:4000 \"aud\"",
        };
        let mut claim_cases = cases.to_vec();
        claim_cases.push(answer(
            None,
            json!({"exp": 99, "iat": "x", "level": 1}),
            "Ada",
        ));
        claim_cases.push(answer(None, json!({"aud": "mine"}), "Ada"));
        for (i, case) in claim_cases.iter().enumerate() {
            let expected = serde_json::to_vec(&case.jwt_claims(&terms)).unwrap();
            assert_eq!(
                String::from_utf8(case.jwt_claims_bytes(&terms)).unwrap(),
                String::from_utf8(expected).unwrap(),
                "claims, case {i}"
            );
        }
        assert!(!cases[2].user.profile_collides(&[]));
        assert!(cases[4].user.profile_collides(&[]));
        assert!(cases[2].user.profile_collides(&["years"]));
    }
}

/// A row of Better Auth's `verification` table: a one-time value under an identifier
/// (`reset-password:<token>` holds a user id).
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// 32-character id.
    pub id: String,
    /// What the row is for, with its token.
    pub identifier: String,
    /// What it carries (a user id).
    pub value: String,
    /// When it stops being valid.
    pub expires_at: Timestamp,
    /// Creation time.
    pub created_at: Timestamp,
}

/// An account of a user as `/list-accounts` shows it (never its secrets).
#[derive(Clone, Debug, PartialEq)]
pub struct AccountInfo {
    /// 32-character id.
    pub id: String,
    /// `credential` for email and password.
    pub provider_id: String,
    /// The user id, for a credential account.
    pub account_id: String,
    /// The owner.
    pub user_id: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}
