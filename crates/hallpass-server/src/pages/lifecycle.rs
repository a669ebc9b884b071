//! The account lifecycle's pages: `/forgot-password`, `/reset-password`, `/verify-email` and
//! `/email-verified`. The forms post to the lifecycle endpoints under `/api/auth` with the pages'
//! script; what a page can know on the server (a reset token that is no longer live, the error a
//! verification link ended with) is rendered on the server, so it reads the same without JavaScript.

use super::error_page::sanitize_code;
use super::{render, see_other, signed_in, Page};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;

type Params = Query<HashMap<String, String>>;

/// Where mailed reset links lead (`redirectTo`): a safe relative path, resolved by the server
/// against its base URL.
pub const RESET_PAGE: &str = "/reset-password";

/// Where verification and change-of-address links lead (`callbackURL`).
pub const VERIFIED_PAGE: &str = "/email-verified";

/// Longest token a page looks up; anything longer is not one.
const MAX_TOKEN: usize = 4096;

pub(super) fn minutes(seconds: i64) -> i64 {
    (seconds + 59) / 60
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPasswordPage {
    page: Page,
    redirect_to: &'static str,
    valid_minutes: i64,
}

/// `GET /forgot-password`: an address, then "check your email" (the same whatever the address).
pub async fn forgot_password(State(state): State<AppState>) -> Response {
    render(&ForgotPasswordPage {
        page: Page::new("Reset your password"),
        redirect_to: RESET_PAGE,
        valid_minutes: minutes(state.auth.email_policy().reset_ttl),
    })
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPasswordPage {
    page: Page,
    /// The live token the form sends; `None` shows why the link does not work.
    token: Option<String>,
    password_min: usize,
    password_max: usize,
    /// Whether a reset ends every session (`revokeSessionsOnPasswordReset`).
    signs_out: bool,
}

/// `GET /reset-password?token=…`: where a mailed reset link lands. A live token gets the form;
/// `?error=…` (the API's redirect for a dead link), a token that is not live or no token at all
/// get the explanation and a way to ask for a new link.
pub async fn reset_password(State(state): State<AppState>, Query(params): Params) -> Response {
    let token = match (params.get("error"), params.get("token")) {
        (None, Some(t)) if !t.is_empty() && t.len() <= MAX_TOKEN => {
            match state.auth.reset_token_is_live(t).await {
                Ok(true) => Some(t.clone()),
                Ok(false) => None,
                Err(e) => return super::error_page::for_api_error(&state, e.into()),
            }
        }
        _ => None,
    };
    let title = if token.is_some() {
        "Choose a new password"
    } else {
        "Reset link not valid"
    };
    render(&ResetPasswordPage {
        page: Page::new(title),
        token,
        password_min: state.config.password_lengths.min,
        password_max: state.config.password_lengths.max,
        signs_out: state.auth.email_policy().revoke_sessions_on_reset,
    })
}

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyEmailPage {
    page: Page,
    callback: &'static str,
    valid_minutes: i64,
    /// The signed-in person's address, filled in.
    email: String,
    /// Whether the signed-in person's address is verified already.
    verified: bool,
}

/// `GET /verify-email`: the landing of verification links. With `?token=`, on to the API, which
/// verifies and comes back to `/email-verified`; with `?error=`, the same page as
/// `/email-verified?error=`; otherwise "confirm your address" with a form to mail a new link.
pub async fn verify_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Some(token) = params
        .get("token")
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN)
    {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let callback: String =
            url::form_urlencoded::byte_serialize(VERIFIED_PAGE.as_bytes()).collect();
        return see_other(&format!(
            "/api/auth/verify-email?token={token}&callbackURL={callback}"
        ));
    }
    if params.contains_key("error") {
        return email_verified(State(state), headers, Query(params)).await;
    }
    let user = match signed_in(&state, &headers).await {
        Ok(s) => s.map(|s| s.user),
        Err(page) => return page,
    };
    render(&VerifyEmailPage {
        page: Page::new("Confirm your email"),
        callback: VERIFIED_PAGE,
        valid_minutes: minutes(state.auth.email_policy().verification_ttl),
        email: user.as_ref().map(|u| u.email.clone()).unwrap_or_default(),
        verified: user.is_some_and(|u| u.email_verified),
    })
}

/// The signed-in person, as `/email-verified` needs them.
struct Reader {
    email: String,
    verified: bool,
}

#[derive(Template)]
#[template(path = "email_verified.html")]
struct EmailVerifiedPage {
    page: Page,
    /// The error code of a link that did not work (`INVALID_TOKEN`, `TOKEN_EXPIRED`, …).
    error: Option<String>,
    /// What went wrong, in a sentence.
    headline: &'static str,
    reader: Option<Reader>,
    callback: &'static str,
}

/// What a verification link's error code means for the person who followed it.
fn headline(code: &str) -> &'static str {
    match code {
        "TOKEN_EXPIRED" => "This link has expired.",
        "INVALID_TOKEN" => "This link is invalid or has already been used.",
        "USER_NOT_FOUND" => "The account this link was for no longer exists.",
        "INVALID_USER" => "This link is for another account than the one you’re signed in to.",
        _ => "This link is invalid or has expired.",
    }
}

/// `GET /email-verified[?error=CODE]`: where verification and change-of-address links end.
pub async fn email_verified(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let reader = match signed_in(&state, &headers).await {
        Ok(s) => s.map(|s| Reader {
            email: s.user.email,
            verified: s.user.email_verified,
        }),
        Err(page) => return page,
    };
    let error = params
        .get("error")
        .map(|raw| sanitize_code(Some(raw.as_str())));
    let (title, headline) = match &error {
        Some(code) => ("Link not valid", headline(code)),
        None => ("Email verified", ""),
    };
    render(&EmailVerifiedPage {
        page: Page::new(title),
        error,
        headline,
        reader,
        callback: VERIFIED_PAGE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_verify_email_has_its_own_sentence() {
        for code in [
            "TOKEN_EXPIRED",
            "INVALID_TOKEN",
            "USER_NOT_FOUND",
            "INVALID_USER",
        ] {
            assert_ne!(headline(code), headline("SOMETHING_ELSE"), "{code}");
        }
    }

    #[test]
    fn link_lifetimes_are_shown_in_whole_minutes_rounded_up() {
        assert_eq!(minutes(3600), 60);
        assert_eq!(minutes(90), 2);
        assert_eq!(minutes(1), 1);
    }
}
