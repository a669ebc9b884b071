//! The application state every handler shares.

use crate::config::Config;
use crate::http::cookies::{self, CookieConfig};
use crate::http::error::ApiResult;
use crate::http::origin::TrustedOrigins;
use axum::http::{header, HeaderMap};
use hallpass_core::service::{ClientInfo, ReadOptions, SessionRead};
use hallpass_core::{AuthService, SessionWithUser};
use std::sync::Arc;

/// Shared state: the auth service and the HTTP-level settings.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

/// What [`AppState`] holds.
pub struct AppInner {
    /// The domain service.
    pub auth: AuthService,
    /// Cookie names and attributes.
    pub cookies: CookieConfig,
    /// Trusted origins (origin checks, callbacks, CORS).
    pub trusted: Arc<TrustedOrigins>,
    /// The configuration the server started with.
    pub config: Config,
    /// Wrong internal secrets per client address.
    pub internal_guard: crate::routes::internal::SecretGuard,
    /// Rate limits and the per-account lock on failed sign-ins.
    pub limiter: Arc<crate::http::limit::Limiter>,
    /// Sends mail off the request path.
    pub mailer: crate::mail::Mailer,
}

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    /// Wraps the parts.
    pub fn new(auth: AuthService, config: Config, mailer: crate::mail::Mailer) -> AppState {
        let cookies = CookieConfig::new(
            config.base_url.scheme() == "https",
            config.sessions.expires_in,
        );
        let trusted = Arc::new(TrustedOrigins::new(
            &config.origin(),
            &config.trusted_origins,
        ));
        let shared = config.rate_limit.storage == crate::config::CounterStorage::Database;
        let limiter = Arc::new(crate::http::limit::Limiter::new(
            config.rate_limit.clone(),
            shared.then(|| auth.store().clone()),
        ));
        AppState(Arc::new(AppInner {
            auth,
            cookies,
            trusted,
            config,
            internal_guard: Default::default(),
            limiter,
            mailer,
        }))
    }

    /// The session token the request presents (bearer or cookie), signature checked.
    pub fn token(&self, headers: &HeaderMap) -> Option<String> {
        cookies::session_token(headers, &self.cookies, &self.config.secret)
    }

    /// Whether the request's session was made with rememberMe false.
    pub fn dont_remember(&self, headers: &HeaderMap) -> bool {
        cookies::dont_remember(headers, &self.cookies, &self.config.secret)
    }

    /// The valid session of the request, or 401 (Better Auth's `sessionMiddleware`); may be
    /// answered from the session cache.
    pub async fn current(&self, headers: &HeaderMap) -> ApiResult<SessionWithUser> {
        self.current_with(headers, false).await
    }

    /// The valid session of the request read from the database, or 401 (Better Auth's
    /// `sensitiveSessionMiddleware`): for endpoints that change credentials or sessions.
    pub async fn current_from_store(&self, headers: &HeaderMap) -> ApiResult<SessionWithUser> {
        self.current_with(headers, true).await
    }

    async fn current_with(
        &self,
        headers: &HeaderMap,
        from_store: bool,
    ) -> ApiResult<SessionWithUser> {
        let token = self.token(headers);
        let opts = ReadOptions {
            no_refresh: true,
            from_store,
        };
        match self.auth.require_session(token.as_deref(), opts).await? {
            SessionRead::Valid(s) | SessionRead::Refreshed(s) => Ok(s),
            SessionRead::Missing | SessionRead::Expired => {
                Err(crate::http::error::ApiError::unauthorized())
            }
        }
    }

    /// The reader a request identifies, for the plain REST and internal routes: a hallpass JWT in
    /// `Authorization: Bearer` (verified, and its session `sid` still live), else a session token
    /// (bearer, signed or raw, or the signed cookie). 401 when there is none or it is not valid.
    pub async fn reader(&self, headers: &HeaderMap) -> ApiResult<SessionWithUser> {
        if let Some(jwt) = cookies::bearer_jwt(headers) {
            let opts = ReadOptions {
                no_refresh: true,
                from_store: false,
            };
            return Ok(self.auth.session_for_jwt(jwt, opts).await?);
        }
        self.current(headers).await
    }

    /// Signs in with an email and a password under the per-account lock: refused (429) while the
    /// account is locked, unless this browser signed in to it before; a wrong password counts
    /// against the account. On success `out` gets the session cookie and, when limits are on, the
    /// cookie that marks this browser as known for the account.
    pub async fn sign_in(
        &self,
        headers: &HeaderMap,
        out: &mut HeaderMap,
        email: &str,
        password: &str,
        remember: bool,
    ) -> ApiResult<SessionWithUser> {
        use crate::http::limit::AccountKey;
        let account = AccountKey::of_email(email);
        let attempt = self
            .limiter
            .reserve_account(&account, self, headers)
            .await
            .map_err(crate::http::limit::Refused::into_error)?;
        let result = self
            .auth
            .sign_in(email, password, remember, &client_info(headers))
            .await;
        // Only a wrong email or password keeps its attempt counted (a full hash queue, say, does
        // not count against the account).
        if !matches!(
            result,
            Err(hallpass_core::DomainError::InvalidEmailOrPassword)
        ) {
            self.limiter.account_succeeded(&account, attempt).await;
        }
        let signed_in = result?;
        self.set_session_cookie(out, &signed_in.session.token, remember);
        if self.limiter.enabled() {
            cookies::set_known_device(
                out,
                &self.cookies,
                &self.config.secret,
                account.device_value(),
            );
        }
        Ok(signed_in)
    }

    /// Sets the session cookie on a response.
    pub fn set_session_cookie(&self, headers: &mut HeaderMap, token: &str, remember: bool) {
        cookies::set_session(headers, &self.cookies, &self.config.secret, token, remember);
    }

    /// Expires the session cookies on a response.
    pub fn expire_session_cookie(&self, headers: &mut HeaderMap) {
        cookies::expire_session(headers, &self.cookies);
    }
}

/// IP and user agent for a new session, as Better Auth records them: the `x-forwarded-for` IP when
/// it holds exactly one valid address, else `""`.
pub fn client_info(headers: &HeaderMap) -> ClientInfo {
    let ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.contains(','))
        .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| match ip {
            // Better Auth expands IPv6 and masks it to /64 (reference, 8.3); IPv4-mapped becomes IPv4.
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!(
                        "{:04x}:{:04x}:{:04x}:{:04x}:0000:0000:0000:0000",
                        s[0], s[1], s[2], s[3]
                    )
                }
            },
            v4 => v4.to_string(),
        })
        .unwrap_or_default();
    let ua: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(512)
        .collect();
    ClientInfo {
        ip_address: ip,
        user_agent: ua,
    }
}
