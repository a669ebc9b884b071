//! Hostile and malformed input to every endpoint: broken bodies, wrong types, huge and odd
//! strings, hostile headers. Whatever arrives, the answer is a 4xx (or a 200 where the input is
//! legitimately acceptable), never a 5xx; every error body is `{"message", "code"?}`; and nothing
//! is left half-written.

mod cases;

use crate::helpers::*;
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// What an answer must be.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exactly this status.
    Status(u16),
    /// A 2xx or a 4xx: the input may legitimately be accepted.
    Any,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Flag,
}

struct Endpoint {
    method: Method,
    path: &'static str,
    fields: &'static [(&'static str, Kind)],
}

const SIGN_UP: Endpoint = Endpoint {
    method: Method::POST,
    path: "/sign-up/email",
    fields: &[
        ("name", Kind::Text),
        ("email", Kind::Text),
        ("password", Kind::Text),
        ("image", Kind::Text),
        ("callbackURL", Kind::Text),
        ("rememberMe", Kind::Flag),
        ("software_background", Kind::Text),
        ("hardware_background", Kind::Text),
    ],
};
const SIGN_IN: Endpoint = Endpoint {
    method: Method::POST,
    path: "/sign-in/email",
    fields: &[
        ("email", Kind::Text),
        ("password", Kind::Text),
        ("callbackURL", Kind::Text),
        ("rememberMe", Kind::Flag),
    ],
};
const SIGN_OUT: Endpoint = Endpoint {
    method: Method::POST,
    path: "/sign-out",
    fields: &[("callbackURL", Kind::Text)],
};
const UPDATE_USER: Endpoint = Endpoint {
    method: Method::POST,
    path: "/update-user",
    fields: &[
        ("name", Kind::Text),
        ("image", Kind::Text),
        ("software_background", Kind::Text),
        ("hardware_background", Kind::Text),
    ],
};
const CHANGE_PASSWORD: Endpoint = Endpoint {
    method: Method::POST,
    path: "/change-password",
    fields: &[
        ("currentPassword", Kind::Text),
        ("newPassword", Kind::Text),
        ("revokeOtherSessions", Kind::Flag),
    ],
};
const REVOKE_SESSION: Endpoint = Endpoint {
    method: Method::POST,
    path: "/revoke-session",
    fields: &[("token", Kind::Text)],
};
const REVOKE_SESSIONS: Endpoint = Endpoint {
    method: Method::POST,
    path: "/revoke-sessions",
    fields: &[],
};
const REVOKE_OTHER_SESSIONS: Endpoint = Endpoint {
    method: Method::POST,
    path: "/revoke-other-sessions",
    fields: &[],
};
const GET_SESSION: Endpoint = Endpoint {
    method: Method::GET,
    path: "/get-session",
    fields: &[],
};
const LIST_SESSIONS: Endpoint = Endpoint {
    method: Method::GET,
    path: "/list-sessions",
    fields: &[],
};
const TOKEN: Endpoint = Endpoint {
    method: Method::GET,
    path: "/token",
    fields: &[],
};
const JWKS: Endpoint = Endpoint {
    method: Method::GET,
    path: "/jwks",
    fields: &[],
};
const OK: Endpoint = Endpoint {
    method: Method::GET,
    path: "/ok",
    fields: &[],
};

/// One request of the barrage.
struct Case {
    label: String,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    headers: Vec<(&'static str, HeaderValue)>,
    /// Send the minted session cookie (with a trusted Origin on POSTs).
    with_session: bool,
    expect: Expect,
}

/// A signed-up user and the barrage's bookkeeping.
struct Barrage<'a> {
    app: &'a TestApp,
    user_id: String,
    email: String,
    hash: String,
    failures: Vec<String>,
    sent: usize,
}

impl<'a> Barrage<'a> {
    async fn new(app: &'a TestApp) -> Barrage<'a> {
        let email = "barrage@example.com".to_owned();
        let user_id = app.new_browser().signed_up(&email).await["user"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let hash = sqlx::query_scalar("select password from account where userId = ?")
            .bind(&user_id)
            .fetch_one(&app.db)
            .await
            .expect("the hash");
        Barrage {
            app,
            user_id,
            email,
            hash,
            failures: Vec::new(),
            sent: 0,
        }
    }

    /// Sends one case, with a freshly minted session when asked, and records what was wrong.
    async fn send(&mut self, endpoint: &Endpoint, case: Case) {
        let app = self.app;
        let mut request = app
            .raw()
            .request(endpoint.method.clone(), app.url(endpoint.path));
        // Case headers first, so a garbage cookie comes before the real one.
        let sets_origin = case
            .headers
            .iter()
            .any(|(n, _)| *n == "origin" || *n == "referer");
        for (name, value) in case.headers {
            request = request.header(name, value);
        }
        if case.with_session {
            let token = app.insert_session(&self.user_id).await;
            let mine = format!("{SESSION_COOKIE}={}", signed_cookie_value(&token));
            request = request.header("cookie", mine);
            if endpoint.method == Method::POST && !sets_origin {
                request = request.header("origin", FRONTEND);
            }
        }
        if let Some(ct) = case.content_type.filter(|_| case.body.is_some()) {
            request = request.header("content-type", ct);
        }
        if let Some(body) = case.body {
            request = request.body(body);
        }
        let label = format!("{} {} [{}]", endpoint.method, endpoint.path, case.label);
        self.sent += 1;
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                self.failures.push(format!("{label}: no answer: {e}"));
                return;
            }
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.bytes().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let ok = match case.expect {
            Expect::Status(s) => status.as_u16() == s,
            Expect::Any => status.is_success() || status.is_client_error(),
        };
        if !ok {
            self.failures.push(format!(
                "{label}: {status} (expected {:?}): {text}",
                case.expect
            ));
        }
        if status.is_client_error() && !body.is_empty() {
            let shape_ok = content_type.starts_with("application/json")
                && serde_json::from_slice::<Value>(&body).is_ok_and(|v| {
                    v.as_object().is_some_and(|o| {
                        o.get("message").is_some_and(Value::is_string)
                            && o.get("code").is_none_or(Value::is_string)
                            && o.keys().all(|k| k == "message" || k == "code")
                    })
                });
            if !shape_ok {
                self.failures.push(format!(
                    "{label}: {status} error body is not {{message, code?}} ({content_type}): {text}"
                ));
            }
        }
        // Keep the password the barrage signs in with, whatever change-password accepted.
        if endpoint.path == "/change-password" && status.is_success() {
            let restored = sqlx::query("update account set password = ? where userId = ?")
                .bind(&self.hash)
                .bind(&self.user_id)
                .execute(&app.db)
                .await;
            if restored.is_err() {
                self.failures
                    .push(format!("{label}: cannot restore the password"));
            }
        }
    }

    async fn run(&mut self, endpoint: &Endpoint) {
        let mut cases = self.body_cases(endpoint);
        cases.extend(self.field_cases(endpoint));
        cases.extend(self.header_cases(endpoint));
        for case in cases {
            self.send(endpoint, case).await;
        }
    }

    /// Asserts no failures, no half-written rows, and a server that still answers.
    async fn assert_all_well(self) {
        let app = self.app;
        assert!(
            self.sent >= 40,
            "the barrage sent only {} requests",
            self.sent
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} requests went wrong:\n{}",
            self.failures.len(),
            self.sent,
            self.failures.join("\n")
        );
        assert_eq!(
            app.count("select count(*) from \"user\"").await,
            app.count("select count(*) from account").await,
            "every user has exactly one account"
        );
        assert_eq!(
            app.count(
                "select count(*) from \"user\" where id not in \
                 (select userId from account where providerId = 'credential' and accountId = userId)"
            )
            .await,
            0,
            "every user has a credential account"
        );
        assert_eq!(
            app.count("select count(*) from session where userId not in (select id from \"user\")")
                .await,
            0,
            "every session has a user"
        );
        assert_eq!(
            app.count("select count(*) from account where userId not in (select id from \"user\")")
                .await,
            0,
            "every account has a user"
        );
        let ok = app.get("/ok").await;
        assert_eq!(ok.status, StatusCode::OK);
        let signed_in = app
            .new_browser()
            .sign_in(&self.email, PASSWORD, json!({}))
            .await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text());
    }
}

async fn barrage(endpoint: &Endpoint) {
    // Arrange
    let app = spawn_app().await;
    let mut barrage = Barrage::new(&app).await;

    // Act
    barrage.run(endpoint).await;

    // Assert
    barrage.assert_all_well().await;
}

#[tokio::test]
async fn malformed_input_to_sign_up_is_refused_cleanly() {
    barrage(&SIGN_UP).await;
}

#[tokio::test]
async fn malformed_input_to_sign_in_is_refused_cleanly() {
    barrage(&SIGN_IN).await;
}

#[tokio::test]
async fn malformed_input_to_sign_out_is_refused_cleanly() {
    barrage(&SIGN_OUT).await;
}

#[tokio::test]
async fn malformed_input_to_update_user_is_refused_cleanly() {
    barrage(&UPDATE_USER).await;
}

#[tokio::test]
async fn malformed_input_to_change_password_is_refused_cleanly() {
    barrage(&CHANGE_PASSWORD).await;
}

#[tokio::test]
async fn malformed_input_to_revoke_session_is_refused_cleanly() {
    barrage(&REVOKE_SESSION).await;
}

#[tokio::test]
async fn malformed_input_to_revoke_sessions_is_refused_cleanly() {
    barrage(&REVOKE_SESSIONS).await;
}

#[tokio::test]
async fn malformed_input_to_revoke_other_sessions_is_refused_cleanly() {
    barrage(&REVOKE_OTHER_SESSIONS).await;
}

#[tokio::test]
async fn malformed_input_to_get_session_is_refused_cleanly() {
    barrage(&GET_SESSION).await;
}

#[tokio::test]
async fn malformed_input_to_list_sessions_is_refused_cleanly() {
    barrage(&LIST_SESSIONS).await;
}

#[tokio::test]
async fn malformed_input_to_token_is_refused_cleanly() {
    barrage(&TOKEN).await;
}

#[tokio::test]
async fn malformed_input_to_jwks_is_refused_cleanly() {
    barrage(&JWKS).await;
}

#[tokio::test]
async fn malformed_input_to_ok_is_refused_cleanly() {
    barrage(&OK).await;
}

#[tokio::test]
async fn garbage_query_strings_on_get_session_are_harmless() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let queries = [
        "?disableRefresh=%ZZ",
        "?disableRefresh=%FF%FE",
        "?disableRefresh[]=1&disableRefresh[]=2",
        "?&&&==&",
        "?disableCookieCache=true&disableCookieCache=false",
    ];

    for query in queries {
        // Act
        let response = app.get(&format!("/get-session{query}")).await;

        // Assert
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{query}: {}",
            response.text()
        );
        assert!(response.json()["session"].is_object(), "{query}");
    }
}

#[tokio::test]
async fn a_name_of_odd_unicode_is_stored_and_returned_exactly() {
    // Arrange
    let app = spawn_app().await;
    let name = "\u{202E}e\u{301}\u{301} 😀👩‍👩‍👧‍👦 \u{FEFF}\u{10FFFF} ß";

    // Act
    let response = app
        .post_json(
            "/sign-up/email",
            &json!({"name": name, "email": "odd@example.com", "password": PASSWORD}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["user"]["name"], name);
    let row = app.user_row("odd@example.com").await.expect("a user");
    assert_eq!(row["name"], name);
    assert_eq!(app.session().await["user"]["name"], name);
}

#[tokio::test]
async fn a_name_with_a_nul_character_is_refused_and_not_stored() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json(
            "/sign-up/email",
            &json!({"name": "nul\u{0}name", "email": "nul@example.com", "password": PASSWORD}),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.contains("name"), "{message}");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn a_huge_name_is_refused_naming_the_field() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json(
            "/sign-up/email",
            &json!({"name": "n".repeat(100 * 1024), "email": "huge@example.com", "password": PASSWORD}),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.contains("name"), "{message}");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({"name": "x".repeat(2 * 1024 * 1024), "email": "big@example.com", "password": PASSWORD});

    // Act
    let response = app.post_json("/sign-up/email", &body).await;

    // Assert
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_shape(&response.json());
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn a_text_plain_body_is_an_unsupported_media_type() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await;

    // Assert
    let message =
        response.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
    assert!(
        message.starts_with("Content-Type \"text/plain\" is not allowed"),
        "{message}"
    );
}

#[tokio::test]
async fn invalid_json_is_a_bad_request() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("content-type", "application/json")
                .body("{\"email\": "),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert_eq!(message, "Invalid JSON in request body");
}
