//! The authentication service: every operation the API offers, in domain terms. Handlers call
//! these methods; these call the store. Better Auth's semantics (reference, sections 2 and 3) are
//! kept here so that every transport (the Better Auth API, the plain REST bridge, the CLI) shares them.

use crate::cache::{CachedAnswer, Invalidation, SessionCache};
use crate::clock::{now, Timestamp};
use crate::email::Email;
use crate::error::DomainError;
use crate::id::new_id;
use crate::keys::{Expected, JwtRefusal, KeyRing};
use crate::model::{ClaimTerms, CredentialAccount, Session, SessionWithUser, User, UserChanges};
use crate::password::{algorithm_of, Algorithm, HashPool, LengthPolicy};
use crate::profile::ProfileSchema;
use crate::secret::Secret;
use crate::store::Store;
use chrono::Duration;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Session lifetimes, in seconds (Better Auth's defaults: 7 days, extended after 1 day, fresh for 1 day).
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Lifetime of a remembered session.
    pub expires_in: i64,
    /// How old the last extension must be before a read extends the session again.
    pub update_age: i64,
    /// How young a session must be for sensitive listings (`list-sessions`); 0 disables the check.
    pub fresh_age: i64,
    /// How long, in milliseconds, a process may answer a session check from memory before reading
    /// the database again; 0 disables the cache. Changes made through this process (and, on
    /// PostgreSQL, through any process) are seen at once regardless.
    pub cache_ttl_ms: u64,
    /// About how many bytes the session cache may hold; the oldest entries go first past it.
    pub cache_max_bytes: usize,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            expires_in: 7 * 24 * 3600,
            update_age: 24 * 3600,
            fresh_age: 24 * 3600,
            cache_ttl_ms: 5000,
            cache_max_bytes: crate::cache::DEFAULT_MAX_BYTES,
        }
    }
}

/// Lifetime of a session made with `rememberMe: false` (Better Auth: one day).
const DONT_REMEMBER_SECONDS: i64 = 24 * 3600;
/// Longest accepted display name, in characters.
const MAX_NAME: usize = 256;
/// Longest accepted image URL, in characters.
const MAX_IMAGE: usize = 2048;

/// JWT settings: issuer and audience (the base URL's origin) and lifetime.
#[derive(Clone, Debug)]
pub struct JwtPolicy {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Lifetime in seconds (900 by default).
    pub ttl: i64,
}

/// Where a request came from, recorded on new sessions.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// Client IP or `""`.
    pub ip_address: String,
    /// User agent or `""`.
    pub user_agent: String,
}

/// A sign-up request, already type-checked by the transport.
#[derive(Debug)]
pub struct SignUp {
    /// Display name.
    pub name: String,
    /// The email as typed.
    pub email: String,
    /// The password.
    pub password: String,
    /// Avatar URL.
    pub image: Option<String>,
    /// False makes a one-day session.
    pub remember: bool,
    /// The whole body, for profile fields.
    pub fields: Map<String, Value>,
}

/// The outcome of reading a session.
#[derive(Debug)]
pub enum SessionRead {
    /// No session has this token.
    Missing,
    /// The session had expired; it has been deleted.
    Expired,
    /// A valid session, unchanged.
    Valid(SessionWithUser),
    /// A valid session whose expiry was just extended.
    Refreshed(SessionWithUser),
}

/// How to read a session.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// Never extend (`?disableRefresh`, or a `dont_remember` session).
    pub no_refresh: bool,
    /// Read the database, never the cache: for sensitive endpoints (change-password, revoke-*,
    /// list-sessions), as Better Auth's `sensitiveSessionMiddleware` does.
    pub from_store: bool,
}

/// The authentication service.
pub struct AuthService {
    pub(crate) store: Arc<dyn Store>,
    schema: ProfileSchema,
    pub(crate) sessions: SessionPolicy,
    pub(crate) lengths: LengthPolicy,
    pub(crate) hasher: HashPool,
    keys: KeyRing,
    jwt: JwtPolicy,
    pub(crate) cache: Arc<SessionCache>,
    decoys: DecoyMix,
    pub(crate) secret: Secret,
    pub(crate) email: crate::lifecycle::EmailPolicy,
}

/// Which decoy an unknown email is verified against, so that it costs what a real account costs.
/// After `[password] algorithm` changes, old accounts keep their old hashes (until their owners
/// sign in and are rehashed) and the two algorithms cost differently: an unknown email is given
/// one algorithm, always the same for the same email (keyed by the secret, so it cannot be
/// predicted), with the odds of the stored hashes, read from the database every ten minutes.
struct DecoyMix {
    secret: Secret,
    /// Argon2id share of stored hashes, in millionths; `u32::MAX` until first read.
    argon2_ppm: std::sync::atomic::AtomicU32,
    /// When the share was last read (seconds since the epoch).
    read_at: std::sync::atomic::AtomicI64,
}

impl DecoyMix {
    const REFRESH_S: i64 = 600;

    async fn algorithm_for(
        &self,
        email: &str,
        store: &dyn Store,
        configured: Algorithm,
    ) -> Algorithm {
        use std::sync::atomic::Ordering::Relaxed;
        let t = now().timestamp();
        if t - self.read_at.load(Relaxed) >= Self::REFRESH_S {
            self.read_at.store(t, Relaxed);
            match store.password_algorithms().await {
                Ok((all, argon2)) if all > 0 => {
                    let ppm = argon2.saturating_mul(1_000_000) / all;
                    self.argon2_ppm
                        .store(u32::try_from(ppm).unwrap_or(1_000_000), Relaxed);
                }
                Ok(_) => self.argon2_ppm.store(u32::MAX, Relaxed),
                Err(e) => tracing::warn!(error = %e, "could not read the mix of password hashes"),
            }
        }
        let ppm = self.argon2_ppm.load(Relaxed);
        if ppm == u32::MAX {
            return configured;
        }
        let digest = self.secret.sign(&format!("decoy:{email}"));
        let pick = digest
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)))
            % 1_000_000;
        if pick < u64::from(ppm) {
            Algorithm::Argon2id
        } else {
            Algorithm::Scrypt
        }
    }
}

fn check_name(name: &str) -> Result<(), DomainError> {
    if name.chars().count() > MAX_NAME || name.contains('\0') {
        return Err(DomainError::InvalidField {
            field: "name".into(),
            message: format!("name must be at most {MAX_NAME} characters, without NUL"),
        });
    }
    Ok(())
}

fn check_image(image: Option<&str>) -> Result<(), DomainError> {
    if image.is_some_and(|i| i.chars().count() > MAX_IMAGE || i.contains('\0')) {
        return Err(DomainError::InvalidField {
            field: "image".into(),
            message: format!("image must be at most {MAX_IMAGE} characters, without NUL"),
        });
    }
    Ok(())
}

impl AuthService {
    /// Builds the service.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        secret: Secret,
        schema: ProfileSchema,
        sessions: SessionPolicy,
        lengths: LengthPolicy,
        hasher: HashPool,
        jwt: JwtPolicy,
    ) -> AuthService {
        let decoys = DecoyMix {
            secret: secret.clone(),
            argon2_ppm: std::sync::atomic::AtomicU32::new(u32::MAX),
            read_at: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
        };
        let keys = KeyRing::new(store.clone(), secret.clone());
        let cache = Arc::new(SessionCache::bounded(
            std::time::Duration::from_millis(sessions.cache_ttl_ms),
            sessions.cache_max_bytes,
        ));
        AuthService {
            store,
            schema,
            sessions,
            lengths,
            hasher,
            keys,
            jwt,
            cache,
            decoys,
            secret,
            email: crate::lifecycle::EmailPolicy::default(),
        }
    }

    /// Sets the email policy (verification, reset, token lifetimes).
    pub fn with_email_policy(mut self, policy: crate::lifecycle::EmailPolicy) -> AuthService {
        self.email = policy;
        self
    }

    /// The email policy.
    pub fn email_policy(&self) -> &crate::lifecycle::EmailPolicy {
        &self.email
    }

    /// Applies a change another process announced (the server feeds the store's invalidation feed
    /// here), with the same guarantee as local changes: reads that started before it are not cached.
    pub fn apply_invalidation(&self, what: &Invalidation) {
        self.cache.invalidate(what);
    }

    pub(crate) fn forget_tokens(&self, tokens: &[String]) {
        for t in tokens {
            self.cache.invalidate(&Invalidation::Session(t.clone()));
        }
    }

    /// The store (for health checks and administration).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Estimated bytes the session cache holds now (at most `[session] cache_max_mb`).
    pub fn session_cache_bytes(&self) -> usize {
        self.cache.bytes()
    }

    /// The profile schema.
    pub fn schema(&self) -> &ProfileSchema {
        &self.schema
    }

    /// The session lifetimes.
    pub fn session_policy(&self) -> SessionPolicy {
        self.sessions
    }

    /// The signing keys.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub(crate) async fn new_session(
        &self,
        user_id: &str,
        remember: bool,
        client: &ClientInfo,
    ) -> Result<Session, DomainError> {
        let t = now();
        let life = if remember {
            self.sessions.expires_in
        } else {
            DONT_REMEMBER_SECONDS
        };
        let session = Session {
            id: new_id(),
            token: new_id(),
            user_id: user_id.to_owned(),
            expires_at: t + Duration::seconds(life),
            created_at: t,
            updated_at: t,
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
        };
        self.store.insert_session(&session).await?;
        Ok(session)
    }

    /// Creates a user with a password and signs them in (Better Auth's `/sign-up/email`).
    pub async fn sign_up(
        &self,
        req: SignUp,
        client: &ClientInfo,
    ) -> Result<SessionWithUser, DomainError> {
        let remember = req.remember;
        let user = self.create_checked_user(req).await?;
        let session = self.new_session(&user.id, remember, client).await?;
        Ok(SessionWithUser { session, user })
    }

    /// Validates a sign-up and creates the user with its credential account.
    pub(crate) async fn create_checked_user(&self, req: SignUp) -> Result<User, DomainError> {
        let email = Email::parse(&req.email).ok_or(DomainError::InvalidEmail)?;
        self.lengths.check_new(&req.password)?;
        check_name(&req.name)?;
        check_image(req.image.as_deref())?;
        let profile = self.schema.for_create(&req.fields)?;
        if self.store.user_by_email(email.as_str()).await?.is_some() {
            return Err(DomainError::UserAlreadyExists);
        }
        let hash = self.hasher.hash(&req.password).await?;
        self.create_user(req.name, email, req.image, profile, hash)
            .await
    }

    pub(crate) async fn create_user(
        &self,
        name: String,
        email: Email,
        image: Option<String>,
        profile: Map<String, Value>,
        hash: String,
    ) -> Result<User, DomainError> {
        let t = now();
        let user = User {
            id: new_id(),
            name,
            email: email.into_string(),
            email_verified: false,
            image,
            created_at: t,
            updated_at: t,
            profile,
        };
        let account = CredentialAccount {
            id: new_id(),
            user_id: user.id.clone(),
            password_hash: hash,
            created_at: t,
        };
        // A concurrent sign-up with the same email loses here, on the unique index.
        self.store.insert_user(&user, &account).await?;
        Ok(user)
    }

    /// Checks an email and password and opens a session (`/sign-in/email`). Unknown emails are
    /// verified against a decoy hash, so they take as long as a wrong password.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        remember: bool,
        client: &ClientInfo,
    ) -> Result<SessionWithUser, DomainError> {
        let email = Email::parse(email).ok_or(DomainError::InvalidEmail)?;
        self.lengths.check_presented(password)?;
        let user = self.store.user_by_email(email.as_str()).await?;
        let hash = match &user {
            Some(u) => self.store.password_hash(&u.id).await?,
            None => None,
        };
        let decoy = match &hash {
            Some(_) => self.hasher.algorithm(),
            None => {
                self.decoys
                    .algorithm_for(email.as_str(), self.store.as_ref(), self.hasher.algorithm())
                    .await
            }
        };
        let ok = self.hasher.verify(password, hash.as_deref(), decoy).await?;
        match user {
            Some(user) if ok => {
                if self.email.require_verification && !user.email_verified {
                    return Err(DomainError::EmailNotVerified);
                }
                let session = self.new_session(&user.id, remember, client).await?;
                if let Some(old) = hash.filter(|h| algorithm_of(h) != self.hasher.algorithm()) {
                    self.rehash(&user.id, password, old).await;
                }
                Ok(SessionWithUser { session, user })
            }
            _ => Err(DomainError::InvalidEmailOrPassword),
        }
    }

    /// Replaces a hash made with another algorithm by one made with the configured algorithm,
    /// after a sign-in proved the password. Best effort: a failure is logged and the old hash
    /// keeps working; a password changed meanwhile is not overwritten.
    async fn rehash(&self, user_id: &str, password: &str, old: String) {
        let new = match self.hasher.hash(password).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "could not rehash a password");
                return;
            }
        };
        match self.store.password_hash(user_id).await {
            Ok(Some(current)) if current == old => {
                if let Err(e) = self.store.set_password_hash(user_id, &new, now()).await {
                    tracing::warn!(error = %e, "could not store a rehashed password");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not rehash a password"),
        }
    }

    /// Reads a session by token, deleting it if expired and extending it when due (section 3).
    pub async fn session(
        &self,
        token: &str,
        opts: ReadOptions,
    ) -> Result<SessionRead, DomainError> {
        let cached = if opts.from_store {
            None
        } else {
            self.cache.get(token)
        };
        let from_cache = cached.is_some();
        let result = match (opts.from_store, from_cache) {
            (true, _) => "bypass",
            (false, true) => "hit",
            (false, false) => "miss",
        };
        metrics::counter!("hallpass_session_cache_total", "result" => result).increment(1);
        // Taken before the read: if the session or its user is invalidated while the read is in
        // flight, what it read does not enter the cache.
        let ticket = self.cache.ticket();
        let (found, reader) = match cached {
            Some(found) => (Some(found), false),
            None if opts.from_store => (self.store.session_with_user(token).await?, true),
            None => {
                self.cache
                    .read_once(token, ticket, || self.store.session_with_user(token))
                    .await?
            }
        };
        if reader {
            metrics::counter!("hallpass_session_reads_total").increment(1);
        }
        let Some(mut found) = found else {
            return Ok(SessionRead::Missing);
        };
        let t = now();
        if found.session.expires_at <= t {
            self.store.delete_session(token).await?;
            self.cache
                .invalidate(&Invalidation::Session(token.to_owned()));
            return Ok(SessionRead::Expired);
        }
        if opts.from_store {
            self.cache.put(&found, ticket);
        }
        let p = self.sessions;
        let ticket = self.cache.ticket();
        let due = found.session.expires_at - Duration::seconds(p.expires_in)
            + Duration::seconds(p.update_age)
            <= t;
        if opts.no_refresh || !due {
            return Ok(SessionRead::Valid(found));
        }
        match self
            .store
            .extend_session(token, t + Duration::seconds(p.expires_in), t)
            .await?
        {
            Some(s) => {
                found.session = s;
                self.cache.put(&found, ticket);
                Ok(SessionRead::Refreshed(found))
            }
            None => {
                self.cache
                    .invalidate(&Invalidation::Session(token.to_owned()));
                Ok(SessionRead::Missing)
            }
        }
    }

    /// Reads a valid session or refuses with Unauthorized (for endpoints behind a session).
    pub async fn require_session(
        &self,
        token: Option<&str>,
        opts: ReadOptions,
    ) -> Result<SessionRead, DomainError> {
        let Some(token) = token else {
            return Err(DomainError::Unauthorized);
        };
        match self.session(token, opts).await? {
            SessionRead::Missing | SessionRead::Expired => Err(DomainError::Unauthorized),
            valid => Ok(valid),
        }
    }

    /// Ends the session with this token (sign-out); no error when there is none.
    pub async fn sign_out(&self, token: &str) -> Result<(), DomainError> {
        // The row goes first: a check that starts after this answers cannot read it again.
        self.store.delete_session(token).await?;
        self.cache
            .invalidate(&Invalidation::Session(token.to_owned()));
        Ok(())
    }

    /// Changes name, image and profile fields (`/update-user`). The email cannot change here.
    pub async fn update_user(
        &self,
        user_id: &str,
        body: &Map<String, Value>,
    ) -> Result<User, DomainError> {
        if body.contains_key("email") {
            return Err(DomainError::EmailCannotBeUpdated);
        }
        let mut changes = UserChanges {
            profile: self.schema.for_update(body)?,
            ..UserChanges::default()
        };
        if let Some(name) = body.get("name") {
            let name = name.as_str().ok_or_else(|| DomainError::InvalidField {
                field: "name".into(),
                message: "name must be a string".into(),
            })?;
            check_name(name)?;
            changes.name = Some(name.to_owned());
        }
        if let Some(image) = body.get("image") {
            let image = match image {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                _ => {
                    return Err(DomainError::InvalidField {
                        field: "image".into(),
                        message: "image must be a string or null".into(),
                    })
                }
            };
            check_image(image.as_deref())?;
            changes.image = Some(image);
        }
        self.apply_changes(user_id, changes).await
    }

    /// Applies validated changes to a user, bumping `updatedAt`.
    pub(crate) async fn apply_changes(
        &self,
        user_id: &str,
        mut changes: UserChanges,
    ) -> Result<User, DomainError> {
        if changes.is_empty() {
            return Err(DomainError::NoFieldsToUpdate);
        }
        changes.updated_at = Some(now());
        let user = self.store.update_user(user_id, &changes).await?;
        let user = user.ok_or(DomainError::UserNotFound)?;
        // Dropped rather than replaced: two updates racing could put their answers back in the
        // wrong order. The next check reads the user again.
        self.cache.invalidate(&Invalidation::User(user.id.clone()));
        Ok(user)
    }

    /// Changes the password after checking the current one (`/change-password`). With
    /// `revoke_others`, every session of the user ends and a new one is returned.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
        revoke_others: bool,
        client: &ClientInfo,
    ) -> Result<Option<Session>, DomainError> {
        self.lengths.check_new(new)?;
        self.lengths.check_presented(current)?;
        let stored = self
            .store
            .password_hash(&user.id)
            .await?
            .ok_or(DomainError::CredentialAccountNotFound)?;
        if !self
            .hasher
            .verify(current, Some(&stored), algorithm_of(&stored))
            .await?
        {
            return Err(DomainError::InvalidPassword);
        }
        let hash = self.hasher.hash(new).await?;
        self.store.set_password_hash(&user.id, &hash, now()).await?;
        if !revoke_others {
            return Ok(None);
        }
        let gone = self.store.delete_user_sessions(&user.id, None).await?;
        self.forget_tokens(&gone);
        Ok(Some(self.new_session(&user.id, true, client).await?))
    }

    /// The user's live sessions (`/list-sessions`); needs a fresh session.
    pub async fn list_sessions(&self, current: &Session) -> Result<Vec<Session>, DomainError> {
        let fresh = self.sessions.fresh_age;
        if fresh > 0 && (now() - current.created_at).num_seconds() >= fresh {
            return Err(DomainError::SessionNotFresh);
        }
        Ok(self.store.user_sessions(&current.user_id, now()).await?)
    }

    /// Ends one of the user's sessions; a token that is not theirs changes nothing.
    pub async fn revoke_session(&self, user_id: &str, token: &str) -> Result<(), DomainError> {
        if self.store.delete_user_session(user_id, token).await? {
            self.cache
                .invalidate(&Invalidation::Session(token.to_owned()));
        }
        Ok(())
    }

    /// Ends every session of the user, or every one but `keep`.
    pub async fn revoke_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<(), DomainError> {
        let gone = self.store.delete_user_sessions(user_id, keep).await?;
        self.forget_tokens(&gone);
        Ok(())
    }

    /// Claims for a JWT about this session's user: the user object plus `iat`, `sub`, `sid` (the
    /// session id, so a strict check can ask whether the session still lives), `exp`, `iss`, `aud`.
    pub fn jwt_claims(&self, found: &SessionWithUser, issued: Timestamp) -> Value {
        found.jwt_claims(&self.claim_terms(issued))
    }

    fn claim_terms(&self, issued: Timestamp) -> ClaimTerms<'_> {
        ClaimTerms {
            iat: issued.timestamp(),
            ttl: self.jwt.ttl,
            issuer: &self.jwt.issuer,
            audience: &self.jwt.audience,
        }
    }

    /// A signed JWT about this session's user (`/token`, `set-auth-jwt`).
    /// A JWT signed for the same session and user state within the last few seconds is handed out
    /// again, so a burst of session checks does not sign a token each.
    pub async fn issue_jwt(&self, found: &SessionWithUser) -> Result<String, DomainError> {
        if let Some(jwt) = self.reusable_jwt(found) {
            return Ok(jwt);
        }
        let jwt = self.sign_jwt(found).await?;
        self.cache.put_jwt(&found.session.token, &found.user, &jwt);
        Ok(jwt)
    }

    /// get-session's answer for a session that was not answered whole from memory: the JWT for
    /// `set-auth-jwt` (as [`AuthService::issue_jwt`]; empty without `with_jwt`) and the rendered
    /// body, remembered together for [`AuthService::cached_answer`] in one step.
    pub async fn render_answer(
        &self,
        found: &SessionWithUser,
        with_jwt: bool,
    ) -> Result<(String, Arc<[u8]>), DomainError> {
        let jwt = if !with_jwt {
            String::new()
        } else if let Some(jwt) = self.reusable_jwt(found) {
            jwt
        } else {
            self.sign_jwt(found).await?
        };
        let body: Arc<[u8]> = found.to_json_bytes().into();
        self.cache.put_answer(found, &jwt, Arc::clone(&body));
        Ok((jwt, body))
    }

    fn reusable_jwt(&self, found: &SessionWithUser) -> Option<String> {
        self.cache
            .jwt(&found.session.token, &found.user, self.jwt_reuse())
    }

    async fn sign_jwt(&self, found: &SessionWithUser) -> Result<String, DomainError> {
        let key = self.keys.current().await?;
        Ok(key.sign_payload(&found.jwt_claims_bytes(&self.claim_terms(now()))))
    }

    /// How long a JWT is handed out again for the same session and user state.
    fn jwt_reuse(&self) -> std::time::Duration {
        std::time::Duration::from_secs(30).min(std::time::Duration::from_secs(
            (self.jwt.ttl / 30).max(0) as u64,
        ))
    }

    /// A session check answered whole from memory: the rendered answer and its JWT, when the
    /// session and user are cached, the session is neither expired nor due for extension, and the
    /// JWT is still handed out again. `None`: go the long way ([`AuthService::session`]).
    pub fn cached_answer(&self, token: &str) -> Option<CachedAnswer> {
        let answer = self.cache.answer(token, self.jwt_reuse())?;
        let s = &answer.session;
        let t = now();
        let p = self.sessions;
        let due =
            s.expires_at - Duration::seconds(p.expires_in) + Duration::seconds(p.update_age) <= t;
        if s.expires_at <= t || due {
            return None;
        }
        metrics::counter!("hallpass_session_cache_total", "result" => "hit").increment(1);
        Some(answer)
    }

    /// Verifies a JWT this server (or Better Auth with the same keys) issued: EdDSA, signature,
    /// expiry, issuer and audience. Any failure is `Unauthorized`; the reason goes to the debug log.
    pub async fn verify_jwt(&self, jwt: &str) -> Result<Map<String, Value>, DomainError> {
        let expected = Expected {
            issuer: self.jwt.issuer.clone(),
            audience: self.jwt.audience.clone(),
        };
        match self.keys.verify(jwt, &expected).await {
            Ok(claims) => Ok(claims),
            Err(JwtRefusal::Store(e)) => Err(e.into()),
            Err(why) => {
                tracing::debug!(%why, "JWT refused");
                Err(DomainError::Unauthorized)
            }
        }
    }

    /// The live session a valid JWT names through its `sid`, with its user read now (not the
    /// claims, which may be up to 15 minutes old). A JWT whose session has ended, or that names no
    /// session (one from Better Auth, which sets no `sid`), is `Unauthorized`.
    pub async fn session_for_jwt(
        &self,
        jwt: &str,
        opts: ReadOptions,
    ) -> Result<SessionWithUser, DomainError> {
        let claims = self.verify_jwt(jwt).await?;
        let (Some(user_id), Some(sid)) = (
            claims.get("sub").and_then(Value::as_str),
            claims.get("sid").and_then(Value::as_str),
        ) else {
            return Err(DomainError::Unauthorized);
        };
        // The token, from memory when this process has seen the session, else from the user's
        // live sessions; either way the session itself is then read with the cache's guarantees.
        let token = match self.cache.token_for_session_id(sid) {
            Some(token) => token,
            None => {
                let live = self.store.user_sessions(user_id, now()).await?;
                let Some(session) = live.into_iter().find(|s| s.id == sid) else {
                    return Err(DomainError::Unauthorized);
                };
                session.token
            }
        };
        match self.session(&token, opts).await? {
            SessionRead::Valid(found) | SessionRead::Refreshed(found)
                if found.user.id == user_id && found.session.id == sid =>
            {
                Ok(found)
            }
            _ => Err(DomainError::Unauthorized),
        }
    }

    /// The public keys (`/jwks`).
    pub async fn jwks(&self) -> Result<Value, DomainError> {
        Ok(self.keys.jwks().await?)
    }

    // ---- administration (CLI, internal bridge) ----

    /// Creates a user with a password, without a session (`hallpass user create`).
    pub async fn admin_create_user(
        &self,
        name: &str,
        email: &str,
        password: &str,
        fields: &Map<String, Value>,
    ) -> Result<User, DomainError> {
        let email = Email::parse(email).ok_or(DomainError::InvalidEmail)?;
        self.lengths.check_new(password)?;
        check_name(name)?;
        let profile = self.schema.for_create(fields)?;
        let hash = self.hasher.hash(password).await?;
        self.create_user(name.to_owned(), email, None, profile, hash)
            .await
    }

    /// The user with this id.
    pub async fn user_by_id(&self, id: &str) -> Result<User, DomainError> {
        self.store
            .user_by_id(id)
            .await?
            .ok_or(DomainError::UserNotFound)
    }

    /// The user with this email.
    pub async fn user_by_email(&self, email: &str) -> Result<User, DomainError> {
        let email = Email::parse(email).ok_or(DomainError::InvalidEmail)?;
        self.store
            .user_by_email(email.as_str())
            .await?
            .ok_or(DomainError::UserNotFound)
    }

    /// Sets profile fields of a user, with the same validation as update-user.
    pub async fn set_profile(
        &self,
        user_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<User, DomainError> {
        let changes = UserChanges {
            profile: self.schema.for_update(fields)?,
            ..UserChanges::default()
        };
        self.apply_changes(user_id, changes).await
    }

    /// Deletes a user with their sessions and accounts.
    pub async fn delete_user(&self, user_id: &str) -> Result<(), DomainError> {
        let deleted = self.store.delete_user(user_id).await?;
        self.cache
            .invalidate(&Invalidation::User(user_id.to_owned()));
        if deleted {
            Ok(())
        } else {
            Err(DomainError::UserNotFound)
        }
    }
}
