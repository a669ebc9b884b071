//! `/`, `/sign-in`, `/sign-up` and `/profile`.

use super::lifecycle::VERIFIED_PAGE;
use super::views::{questions, FieldView, MethodView, SessionView};
use super::{render, see_other, signed_in, vetted_callback, with_callback, Page};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hallpass_core::{DomainError, User};
use std::collections::HashMap;

/// Where a person lands after signing in when no callback was given.
const AFTER_SIGN_IN: &str = "/profile";

type Params = Query<HashMap<String, String>>;

/// The signed-in person, as the sign-in and sign-up pages greet them.
pub struct Greeting {
    /// Their name, or their email when the name is empty.
    pub name: String,
    /// Their email.
    pub email: String,
}

impl Greeting {
    fn of(user: &User) -> Greeting {
        Greeting {
            name: display_name(user),
            email: user.email.clone(),
        }
    }
}

fn display_name(user: &User) -> String {
    if user.name.trim().is_empty() {
        user.email.clone()
    } else {
        user.name.clone()
    }
}

/// Where a callback leads, when it leaves this server: "docs.example.com", "localhost:3000".
fn elsewhere(state: &AppState, callback: &str) -> Option<String> {
    let url = url::Url::parse(callback).ok()?;
    if url.origin().ascii_serialization() == state.config.origin() {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// What both forms carry: where to go afterwards, and the signed-in person if there is one.
struct Journey {
    callback: Option<String>,
    next: String,
    return_host: Option<String>,
    greeting: Option<Greeting>,
}

async fn journey(
    state: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Journey, Response> {
    let callback = vetted_callback(
        &state.trusted,
        params.get("callbackURL").map(String::as_str),
    );
    let next = callback.clone().unwrap_or_else(|| AFTER_SIGN_IN.to_owned());
    let return_host = elsewhere(state, &next);
    let greeting = signed_in(state, headers)
        .await?
        .map(|s| Greeting::of(&s.user));
    Ok(Journey {
        callback,
        next,
        return_host,
        greeting,
    })
}

/// `GET /`: the profile for a signed-in person, the sign-in page for anyone else.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(Some(_)) => see_other("/profile"),
        Ok(None) => see_other("/sign-in"),
        Err(page) => page,
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    page: Page,
    next: String,
    return_host: Option<String>,
    sign_up_href: String,
    greeting: Option<Greeting>,
    /// Where the verification link asked for after `EMAIL_NOT_VERIFIED` leads.
    verify_callback: &'static str,
}

/// `GET /sign-in[?callbackURL=…]`.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let j = match journey(&state, &headers, &params).await {
        Ok(j) => j,
        Err(page) => return page,
    };
    render(&SignInPage {
        page: Page::new("Sign in"),
        sign_up_href: with_callback("/sign-up", j.callback.as_deref()),
        next: j.next,
        return_host: j.return_host,
        greeting: j.greeting,
        verify_callback: VERIFIED_PAGE,
    })
}

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage {
    page: Page,
    next: String,
    return_host: Option<String>,
    sign_in_href: String,
    greeting: Option<Greeting>,
    questions: Vec<FieldView>,
    password_min: usize,
    password_max: usize,
    /// Where the verification link mailed at sign-up leads.
    verify_callback: &'static str,
}

/// `GET /sign-up[?callbackURL=…]`: name, email, password and the profile questions.
pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let j = match journey(&state, &headers, &params).await {
        Ok(j) => j,
        Err(page) => return page,
    };
    render(&SignUpPage {
        page: Page::new("Create your account"),
        sign_in_href: with_callback("/sign-in", j.callback.as_deref()),
        next: j.next,
        return_host: j.return_host,
        greeting: j.greeting,
        questions: questions(state.auth.schema().fields(), None, false),
        password_min: state.config.password_lengths.min,
        password_max: state.config.password_lengths.max,
        verify_callback: VERIFIED_PAGE,
    })
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    page: Page,
    name: String,
    display_name: String,
    initials: String,
    email: String,
    email_verified: bool,
    member_since: String,
    questions: Vec<FieldView>,
    /// `None` when the session is too old to list the others (Better Auth's freshness rule).
    sessions: Option<Vec<SessionView>>,
    others: usize,
    /// The ways this person signs in (`/list-accounts`).
    methods: Vec<MethodView>,
    /// Whether the account has a password (deletion asks for it).
    has_password: bool,
    /// Whether the address may be changed (`[email] allow_change`).
    allow_change: bool,
    /// Whether the account may be deleted (`[email] allow_delete`).
    allow_delete: bool,
    /// Where verification and change-of-address links lead.
    verify_callback: &'static str,
    /// How long a mailed link works.
    link_minutes: i64,
}

/// `GET /profile`: edit the name and answers, see whether the address is verified and ask for a
/// link, change the address, see the sign-in methods, see and end sessions, sign out, delete the
/// account. Without a session, a redirect to the sign-in page that comes back here.
pub async fn profile(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let current = match signed_in(&state, &headers).await {
        Ok(Some(current)) => current,
        Ok(None) => return see_other(&with_callback("/sign-in", Some("/profile"))),
        Err(page) => return page,
    };
    let sessions = match state.auth.list_sessions(&current.session).await {
        Ok(list) => {
            let mut views: Vec<SessionView> = list
                .iter()
                .map(|s| SessionView::new(s, &current.session.token))
                .collect();
            // This device first, then the others as the store lists them.
            views.sort_by_key(|s| !s.current);
            Some(views)
        }
        Err(DomainError::SessionNotFresh) => None,
        Err(e) => return super::error_page::for_api_error(&state, e.into()),
    };
    let others = sessions
        .as_ref()
        .map_or(0, |list| list.iter().filter(|s| !s.current).count());
    let user = &current.user;
    let accounts = match state.auth.list_accounts(&user.id).await {
        Ok(list) => list,
        Err(e) => return super::error_page::for_api_error(&state, e.into()),
    };
    let has_password = accounts.iter().any(|a| a.provider_id == "credential");
    render(&ProfilePage {
        page: Page::new("Your profile"),
        name: user.name.clone(),
        display_name: display_name(user),
        initials: initials(&display_name(user)),
        email: user.email.clone(),
        email_verified: user.email_verified,
        member_since: user.created_at.format("%B %Y").to_string(),
        questions: questions(state.auth.schema().fields(), Some(user), true),
        sessions,
        others,
        methods: accounts.iter().map(MethodView::new).collect(),
        has_password,
        allow_change: state.config.email.allow_change,
        allow_delete: state.config.email.allow_delete,
        verify_callback: VERIFIED_PAGE,
        link_minutes: super::lifecycle::minutes(state.auth.email_policy().verification_ttl),
    })
}

/// Up to two capital letters for the avatar: "Ada Lovelace" → "AL".
fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("grace"), "G");
        assert_eq!(initials("ada@example.com"), "A");
        assert_eq!(initials("  "), "?");
    }
}
