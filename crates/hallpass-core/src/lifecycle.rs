//! The account lifecycle, as Better Auth's routes do it (reference, section 2): password reset
//! through one-time tokens in the `verification` table, email verification and change of address
//! through HS256 JWTs signed with the secret (so links Better Auth mailed work here and back),
//! account deletion, and the small core endpoints (verify-password, list-accounts). Sending the
//! mail is the server's business: these methods return what the mail must carry.

use crate::clock::now;
use crate::email::Email;
use crate::error::DomainError;
use crate::id::generate_id;
use crate::model::{AccountInfo, Session, User, UserChanges, Verification};
use crate::password::algorithm_of;
use crate::service::{AuthService, SignUp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Map, Value};

/// What the lifecycle does beyond Better Auth's defaults.
#[derive(Clone, Debug)]
pub struct EmailPolicy {
    /// Sign-in refuses an unverified address (403 EMAIL_NOT_VERIFIED), and sign-up opens no
    /// session (`requireEmailVerification`). Default false.
    pub require_verification: bool,
    /// A password reset ends every session of the user (`revokeSessionsOnPasswordReset`).
    /// Default true: whoever reset the password should be the only one signed in.
    pub revoke_sessions_on_reset: bool,
    /// Lifetime of a reset token in seconds (3600).
    pub reset_ttl: i64,
    /// Lifetime of a verification link in seconds (3600).
    pub verification_ttl: i64,
    /// Verifying an address signs the user in (`autoSignInAfterVerification`). Default false.
    pub auto_sign_in_after_verification: bool,
}

impl Default for EmailPolicy {
    fn default() -> Self {
        EmailPolicy {
            require_verification: false,
            revoke_sessions_on_reset: true,
            reset_ttl: 3600,
            verification_ttl: 3600,
            auto_sign_in_after_verification: false,
        }
    }
}

/// A password-reset token for a user, to be mailed.
#[derive(Debug)]
pub struct ResetToken {
    /// Whose password it resets.
    pub user: User,
    /// 24 alphanumeric characters, as Better Auth makes them.
    pub token: String,
}

/// A verified address.
#[derive(Debug)]
pub struct Verified {
    /// The user, as stored after the verification.
    pub user: User,
    /// Whether the token confirmed a change of address (the user now has the new one).
    pub changed_email: bool,
}

const RESET_PREFIX: &str = "reset-password:";
const CHANGE_EMAIL: &str = "change-email-verification";

impl AuthService {
    /// `/request-password-reset`: a token for the user with this address, or None when there is
    /// none (the caller answers the same either way).
    pub async fn request_password_reset(
        &self,
        email: &str,
    ) -> Result<Option<ResetToken>, DomainError> {
        let email = Email::parse(email).ok_or(DomainError::InvalidEmail)?;
        let t = now();
        // Housekeeping: tokens nobody used.
        self.store.prune_verifications(t).await?;
        let Some(user) = self.store.user_by_email(email.as_str()).await? else {
            return Ok(None);
        };
        let token = generate_id(24);
        self.store
            .insert_verification(&Verification {
                id: crate::id::new_id(),
                identifier: format!("{RESET_PREFIX}{token}"),
                value: user.id.clone(),
                expires_at: t + chrono::Duration::seconds(self.email.reset_ttl),
                created_at: t,
            })
            .await?;
        Ok(Some(ResetToken { user, token }))
    }

    /// Whether a reset token is live (`GET /reset-password/:token`), without using it.
    pub async fn reset_token_is_live(&self, token: &str) -> Result<bool, DomainError> {
        if !is_token_text(token) {
            return Ok(false);
        }
        let found = self
            .store
            .verification(&format!("{RESET_PREFIX}{token}"))
            .await?;
        Ok(found.is_some_and(|v| v.expires_at > now()))
    }

    /// `/reset-password`: uses the token (once, even under concurrent use) and sets the password;
    /// ends the user's sessions when the policy says so.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
    ) -> Result<User, DomainError> {
        // Checked first, so a too-short password does not burn the token.
        self.lengths.check_new(new_password)?;
        if !is_token_text(token) {
            return Err(DomainError::InvalidToken);
        }
        let taken = self
            .store
            .take_verification(&format!("{RESET_PREFIX}{token}"))
            .await?
            .ok_or(DomainError::InvalidToken)?;
        if taken.expires_at <= now() {
            return Err(DomainError::InvalidToken);
        }
        let user = self
            .store
            .user_by_id(&taken.value)
            .await?
            .ok_or(DomainError::UserNotFound)?;
        let hash = self.hasher.hash(new_password).await?;
        if !self.store.set_password_hash(&user.id, &hash, now()).await? {
            return Err(DomainError::CredentialAccountNotFound);
        }
        if self.email.revoke_sessions_on_reset {
            let gone = self.store.delete_user_sessions(&user.id, None).await?;
            self.forget_tokens(&gone);
        }
        Ok(user)
    }

    /// A verification link's token: an HS256 JWT `{email, userId, iat, exp}` signed with the
    /// secret, with `updateTo` and `requestType` for a change of address (Better Auth's format).
    pub fn email_token(&self, user: &User, update_to: Option<&str>) -> Result<String, DomainError> {
        let iat = now().timestamp();
        let mut claims = Map::new();
        claims.insert("email".into(), json!(user.email));
        if let Some(new) = update_to {
            claims.insert("updateTo".into(), json!(new));
            claims.insert("requestType".into(), json!(CHANGE_EMAIL));
        }
        claims.insert("userId".into(), json!(user.id));
        claims.insert("iat".into(), json!(iat));
        claims.insert("exp".into(), json!(iat + self.email.verification_ttl));
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Value::Object(claims),
            &EncodingKey::from_secret(self.secret.bytes()),
        )
        .map_err(|e| DomainError::Internal(format!("cannot sign a verification token: {e}")))
    }

    fn read_email_token(&self, token: &str) -> Result<Map<String, Value>, DomainError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        match jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &DecodingKey::from_secret(self.secret.bytes()),
            &validation,
        ) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
                Err(DomainError::TokenExpired)
            }
            Err(_) => Err(DomainError::InvalidToken),
        }
    }

    /// `/send-verification-email`: the user to mail and the token, or None when nothing is to be
    /// sent. With a session, the address must be the session's and not yet verified; without one,
    /// an unknown or verified address quietly gets nothing.
    pub async fn verification_request(
        &self,
        session_user: Option<&User>,
        email: &str,
    ) -> Result<Option<(User, String)>, DomainError> {
        let email = Email::parse(email).ok_or(DomainError::InvalidEmail)?;
        let user = match session_user {
            Some(u) => {
                if u.email != email.as_str() {
                    return Err(DomainError::EmailMismatch);
                }
                if u.email_verified {
                    return Err(DomainError::EmailAlreadyVerified);
                }
                u.clone()
            }
            None => match self.store.user_by_email(email.as_str()).await? {
                Some(u) if !u.email_verified => u,
                _ => return Ok(None),
            },
        };
        let token = self.email_token(&user, None)?;
        Ok(Some((user, token)))
    }

    /// `/verify-email`: marks the address verified, or, for a change of address, moves the user
    /// to the new one (keeping `emailVerified` as it was, as Better Auth does). A change opened in
    /// another user's session is refused (`INVALID_USER`).
    pub async fn verify_email(
        &self,
        token: &str,
        session_user: Option<&User>,
    ) -> Result<Verified, DomainError> {
        let claims = self.read_email_token(token)?;
        let email = claims
            .get("email")
            .and_then(Value::as_str)
            .ok_or(DomainError::InvalidToken)?;
        let change = claims
            .get("updateTo")
            .and_then(Value::as_str)
            .filter(|_| claims.get("requestType").and_then(Value::as_str) == Some(CHANGE_EMAIL));
        let found = self.store.user_by_email(&email.to_lowercase()).await?;
        let user = match (found, change) {
            (Some(u), _) => u,
            // A change already made: the old address is gone.
            (None, Some(_)) => return Err(DomainError::InvalidToken),
            (None, None) => return Err(DomainError::UserNotFound),
        };
        if let Some(id) = claims.get("userId").and_then(Value::as_str) {
            if id != user.id {
                return Err(DomainError::InvalidToken);
            }
        }
        if let Some(new) = change {
            if session_user.is_some_and(|s| s.id != user.id) {
                return Err(DomainError::InvalidUser);
            }
            let new = Email::parse(new).ok_or(DomainError::InvalidToken)?;
            let changes = UserChanges {
                email: Some(new.into_string()),
                ..UserChanges::default()
            };
            // Taken meanwhile: the unique index refuses, and nothing changes.
            let user = self.apply_changes(&user.id, changes).await?;
            return Ok(Verified {
                user,
                changed_email: true,
            });
        }
        if user.email_verified {
            return Ok(Verified {
                user,
                changed_email: false,
            });
        }
        let changes = UserChanges {
            email_verified: Some(true),
            ..UserChanges::default()
        };
        let user = self.apply_changes(&user.id, changes).await?;
        Ok(Verified {
            user,
            changed_email: false,
        })
    }

    /// `/change-email`: the token to mail to the new address, or None when the address is taken
    /// (answered like a success: who has an account is not told).
    pub async fn change_email(
        &self,
        user: &User,
        new_email: &str,
    ) -> Result<Option<String>, DomainError> {
        let new = Email::parse(new_email).ok_or(DomainError::InvalidEmail)?;
        if new.as_str() == user.email {
            return Err(DomainError::EmailIsTheSame);
        }
        if self.store.user_by_email(new.as_str()).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(self.email_token(user, Some(new.as_str()))?))
    }

    /// `/delete-user`: with the password, or without it from a session younger than `fresh_age`;
    /// the user goes with their sessions and accounts.
    pub async fn delete_account(
        &self,
        user: &User,
        session: &Session,
        password: Option<&str>,
    ) -> Result<(), DomainError> {
        match password {
            Some(p) => self.verify_password(user, p).await?,
            None => {
                let fresh = self.sessions.fresh_age;
                if fresh > 0 && (now() - session.created_at).num_seconds() >= fresh {
                    return Err(DomainError::SessionExpired);
                }
            }
        }
        self.delete_user(&user.id).await
    }

    /// `/verify-password`: Ok when the password is the user's.
    pub async fn verify_password(&self, user: &User, password: &str) -> Result<(), DomainError> {
        self.lengths.check_presented(password)?;
        let stored = self
            .store
            .password_hash(&user.id)
            .await?
            .ok_or(DomainError::CredentialAccountNotFound)?;
        let ok = self
            .hasher
            .verify(password, Some(&stored), algorithm_of(&stored))
            .await?;
        if ok {
            Ok(())
        } else {
            Err(DomainError::InvalidPassword)
        }
    }

    /// `/list-accounts`.
    pub async fn list_accounts(&self, user_id: &str) -> Result<Vec<AccountInfo>, DomainError> {
        Ok(self.store.accounts(user_id).await?)
    }

    /// Marks an address verified (the operator's `hallpass user verify`).
    pub async fn mark_verified(&self, email: &str) -> Result<User, DomainError> {
        let user = self.user_by_email(email).await?;
        if user.email_verified {
            return Ok(user);
        }
        let changes = UserChanges {
            email_verified: Some(true),
            ..UserChanges::default()
        };
        self.apply_changes(&user.id, changes).await
    }

    /// Opens a session for a user who just proved their address (`autoSignInAfterVerification`).
    pub async fn open_session(
        &self,
        user: &User,
        client: &crate::service::ClientInfo,
    ) -> Result<Session, DomainError> {
        self.new_session(&user.id, true, client).await
    }

    /// Sign-up when addresses must be verified first: the user is created, no session is opened.
    pub async fn sign_up_unverified(&self, req: SignUp) -> Result<User, DomainError> {
        self.create_checked_user(req).await
    }
}

/// Tokens are short and alphanumeric; anything else is not one of ours (and is not looked up).
fn is_token_text(token: &str) -> bool {
    !token.is_empty() && token.len() <= 64 && token.bytes().all(|b| b.is_ascii_alphanumeric())
}
