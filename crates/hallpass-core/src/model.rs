//! The records hallpass keeps, as Better Auth's `user` and `session` tables hold them, and their
//! JSON output as Better Auth's API returns them (camelCase keys, ISO dates, profile fields inline).

use crate::clock::{to_iso, Timestamp};
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
