//! The built-in pages (`/`, `/sign-in`, `/sign-up`, `/profile`, the lifecycle's
//! `/forgot-password`, `/reset-password`, `/verify-email` and `/email-verified`, their assets) and
//! Better Auth's `GET /api/auth/error` page: what they show, where they send people, and the
//! headers that keep them from being framed, sniffed, cached or made to run injected markup.

use crate::helpers::{
    iso, spawn_app, spawn_app_with, unique_email, Browser, TestApp, TestResponse, EVIL, FRONTEND,
    PASSWORD,
};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

/// `GET {path}` at the server's root, with this browser's cookies.
async fn open(app: &TestApp, browser: &Browser, path: &str) -> TestResponse {
    browser
        .request(app.raw().get(format!("{}{path}", app.address)))
        .await
}

/// `GET {path}` with no cookies.
async fn visit(app: &TestApp, path: &str) -> TestResponse {
    app.send(app.raw().get(format!("{}{path}", app.address)))
        .await
}

/// Whether the markup has an attribute like ` onclick=`.
fn has_event_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(i, _)| {
        let rest = &html[i + 3..];
        let name_len = rest.chars().take_while(char::is_ascii_lowercase).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}

/// Whether `text` appears with `<` and `>` as character references (named or numeric).
fn shows_escaped(html: &str, text: &str) -> bool {
    [("&lt;", "&gt;"), ("&#60;", "&#62;"), ("&#x3c;", "&#x3e;")]
        .iter()
        .any(|(lt, gt)| html.contains(&text.replace('<', lt).replace('>', gt)))
}

#[track_caller]
fn assert_html(response: &TestResponse) -> String {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    response.text()
}

const CUSTOM_SCHEMA: &str = r#"
[[profile.fields]]
key = "software_background"
type = "enum"
values = ["none", "beginner", "intermediate", "advanced"]
labels = ["Never coded", "Some scripts", "Ships software", "Expert"]
label = "Programming experience"

[[profile.fields]]
key = "robot_platform"
type = "enum"
values = ["ros2", "arduino"]
labels = ["ROS 2", "Arduino"]
label = "Which platform do you use?"
required = true

[[profile.fields]]
key = "company"
type = "string"
max_length = 40

[[profile.fields]]
key = "years_coding"
type = "number"
label = "Years of coding"

[[profile.fields]]
key = "newsletter"
type = "boolean"
label = "Send me the newsletter"

[[profile.fields]]
key = "plan"
type = "string"
input = false
default = "free"
"#;

#[tokio::test]
async fn sign_up_page_asks_the_profile_questions_with_their_friendly_labels() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let html = assert_html(&visit(&app, "/sign-up").await);

    // Assert
    for expected in [
        r#"name="name""#,
        r#"name="email""#,
        r#"name="password""#,
        "Software background",
        "Hardware background",
        "No experience",
        "Intermediate",
        r#"name="software_background" value="advanced""#,
        r#"name="hardware_background" value="none""#,
        r#"data-endpoint="/sign-up/email""#,
        "At least 8 characters",
    ] {
        assert!(html.contains(expected), "missing {expected:?} in {html}");
    }
}

#[tokio::test]
async fn a_custom_schema_renames_adds_and_hides_questions_on_sign_up() {
    // Arrange
    let app = spawn_app_with(|toml, _| toml.push_str(CUSTOM_SCHEMA)).await;

    // Act
    let html = assert_html(&visit(&app, "/sign-up").await);

    // Assert
    for expected in [
        "Programming experience",
        "Never coded",
        "Expert",
        "Which platform do you use?",
        "ROS 2",
        r#"data-hp-field="robot_platform" data-kind="enum" data-required="true""#,
        r#"name="company" type="text" value="" maxlength="40""#,
        "Company",
        r#"name="years_coding" type="number""#,
        "Years of coding",
        r#"type="checkbox" name="newsletter""#,
        "Send me the newsletter",
    ] {
        assert!(html.contains(expected), "missing {expected:?} in {html}");
    }
    assert!(!html.contains("Software background"), "the old label stays");
    assert!(
        !html.contains("hardware_background"),
        "a removed field stays"
    );
    assert!(
        !html.contains(r#"name="plan""#),
        "a server-owned field is asked"
    );
}

#[tokio::test]
async fn the_error_page_names_the_code() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/error?error=SOME_CODE").await;

    // Assert
    let html = assert_html(&response);
    assert!(html.contains("SOME_CODE"), "{html}");
}

#[tokio::test]
async fn the_error_page_never_echoes_markup_from_the_query() {
    // Arrange
    let app = spawn_app().await;
    let script = "<script>alert(1)</script>";
    let encoded: String = url::form_urlencoded::byte_serialize(script.as_bytes()).collect();

    // Act
    let response = app
        .get(&format!(
            "/error?error={encoded}&error_description={encoded}"
        ))
        .await;

    // Assert
    let html = assert_html(&response);
    assert!(!html.contains(script), "{html}");
    assert!(
        html.contains("UNKNOWN"),
        "an invalid code is not UNKNOWN: {html}"
    );
    assert!(
        shows_escaped(&html, script),
        "the description is not shown escaped: {html}"
    );
}

#[tokio::test]
async fn a_callback_to_an_untrusted_origin_never_reaches_the_page() {
    // Arrange
    let app = spawn_app().await;

    for page in ["/sign-in", "/sign-up"] {
        // Act
        let response = visit(
            &app,
            &format!("{page}?callbackURL={EVIL}/steal%22%3E%3Cscript%3E"),
        )
        .await;

        // Assert
        let html = assert_html(&response);
        assert!(!html.contains("evil.example"), "{page}: {html}");
        assert!(html.contains(r#"data-next="/profile""#), "{page}: {html}");
    }
}

#[tokio::test]
async fn a_callback_to_a_trusted_origin_is_where_the_form_goes_next() {
    // Arrange
    let app = spawn_app().await;
    let callback = format!("{FRONTEND}/docs/intro");

    // Act
    let response = visit(&app, &format!("/sign-in?callbackURL={callback}")).await;

    // Assert
    let html = assert_html(&response);
    assert!(
        html.contains(&format!(r#"data-next="{callback}""#)),
        "{html}"
    );
    assert!(
        html.contains("localhost:3000"),
        "the destination is not named: {html}"
    );
    assert!(
        html.contains("/sign-up?callbackURL=http%3A%2F%2Flocalhost%3A3000%2Fdocs%2Fintro"),
        "the sign-up link loses the callback: {html}"
    );
}

#[tokio::test]
async fn profile_without_a_session_redirects_to_sign_in_and_back() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = visit(&app, "/profile").await;

    // Assert
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.header("location").as_deref(),
        Some("/sign-in?callbackURL=%2Fprofile")
    );
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn the_home_page_leads_to_sign_in_or_to_the_profile() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let signed_out = visit(&app, "/").await;
    app.signed_up(&unique_email("home")).await;
    let signed_in = open(&app, &app.browser, "/").await;

    // Assert
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_out.header("location").as_deref(), Some("/sign-in"));
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.header("location").as_deref(), Some("/profile"));
}

#[tokio::test]
async fn profile_with_a_session_shows_the_name_the_answers_and_every_session() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("profile");
    let up = app
        .sign_up(
            &email,
            PASSWORD,
            json!({"name": "Grace Hopper", "software_background": "advanced"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text());
    let laptop = app.new_browser();
    let other = laptop.sign_in(&email, PASSWORD, json!({})).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text());

    // Act
    let response = open(&app, &app.browser, "/profile").await;

    // Assert
    let html = assert_html(&response);
    assert!(html.contains(r#"value="Grace Hopper""#), "{html}");
    assert!(html.contains(&email), "{html}");
    assert!(
        html.contains(r#"name="software_background" value="advanced" checked"#),
        "the answer is not pre-selected: {html}"
    );
    assert_eq!(html.matches("This device").count(), 1, "{html}");
    assert_eq!(
        html.matches(r#"data-hp-action="revoke-session""#).count(),
        1,
        "one other session to revoke: {html}"
    );
    assert!(html.contains("Sign out everywhere else"), "{html}");
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn profile_of_an_old_session_asks_for_a_fresh_sign_in_to_list_devices() {
    // Arrange
    let app = spawn_app().await;
    let up = app.signed_up(&unique_email("stale")).await;
    let token = up["token"].as_str().unwrap().to_owned();
    app.set_session_date(&token, "createdAt", &iso(Utc::now() - Duration::days(2)))
        .await;

    // Act
    let response = open(&app, &app.browser, "/profile").await;

    // Assert
    let html = assert_html(&response);
    assert!(html.contains("recent sign-in"), "{html}");
    assert!(!html.contains("This device"), "{html}");
}

#[tokio::test]
async fn a_name_with_markup_is_shown_as_text() {
    // Arrange
    let app = spawn_app().await;
    let up = app
        .sign_up(
            &unique_email("markup"),
            PASSWORD,
            json!({"name": "<img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text());

    // Act
    let html = assert_html(&open(&app, &app.browser, "/profile").await);

    // Assert
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        shows_escaped(&html, "<img src=x onerror=alert(1)>"),
        "{html}"
    );
}

#[tokio::test]
async fn signed_in_visitors_to_sign_in_are_offered_to_continue() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("again");
    app.signed_up(&email).await;

    // Act
    let html = assert_html(&open(&app, &app.browser, "/sign-in").await);

    // Assert
    assert!(html.contains("You’re signed in"), "{html}");
    assert!(html.contains(&email), "{html}");
    assert!(html.contains("Use a different account"), "{html}");
    assert!(!html.contains(r#"data-hp-form="sign-in""#), "{html}");
}

#[tokio::test]
async fn pages_answer_404_when_disabled_but_the_error_page_and_its_styles_stay() {
    for app in [
        spawn_app_with(|_, env| {
            env.insert("HALLPASS_PAGES".into(), "false".into());
        })
        .await,
        spawn_app_with(|toml, _| toml.push_str("[pages]\nenabled = false\n")).await,
    ] {
        // Act
        let mut answers = Vec::new();
        for path in [
            "/",
            "/sign-in",
            "/sign-up",
            "/profile",
            "/forgot-password",
            "/reset-password?token=abc",
            "/verify-email",
            "/verify-email?token=abc",
            "/email-verified",
        ] {
            answers.push((path, visit(&app, path).await.status));
        }
        let error_page = app.get("/error?error=SOME_CODE").await;
        let stylesheet = visit(&app, "/assets/hallpass.css").await;

        // Assert
        for (path, status) in answers {
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let html = assert_html(&error_page);
        assert!(html.contains("SOME_CODE"));
        assert_eq!(
            stylesheet.status,
            StatusCode::OK,
            "the error page's stylesheet is gone"
        );
        assert!(
            !html.contains(r#"href="/sign-in""#),
            "the error page links to a page that is off"
        );
    }
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    // Arrange
    let app = spawn_app().await;

    for path in [
        "/sign-in",
        "/sign-up",
        "/api/auth/error?error=X",
        "/forgot-password",
        "/reset-password?token=unknown",
        "/reset-password?error=INVALID_TOKEN",
        "/verify-email",
        "/email-verified",
        "/email-verified?error=TOKEN_EXPIRED",
    ] {
        // Act
        let response = visit(&app, path).await;

        // Assert
        assert_html(&response);
        let csp = response
            .header("content-security-policy")
            .unwrap_or_default();
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "default-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(response.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            response.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            response.header("referrer-policy").as_deref(),
            Some("same-origin")
        );
        assert_eq!(
            response.header("cache-control").as_deref(),
            Some("no-store")
        );
    }
}

#[tokio::test]
async fn pages_have_no_inline_scripts_or_styles() {
    // Arrange
    let app = spawn_app_with(|toml, _| toml.push_str(CUSTOM_SCHEMA)).await;
    app.sign_up(
        &unique_email("inline"),
        PASSWORD,
        json!({"robot_platform": "ros2"}),
    )
    .await;

    for (path, signed_in) in [
        ("/sign-in", false),
        ("/sign-up", false),
        ("/profile", true),
        ("/forgot-password", false),
        ("/reset-password?token=unknown", false),
        ("/verify-email", false),
        ("/verify-email", true),
        ("/email-verified", true),
        ("/email-verified?error=INVALID_TOKEN", true),
        ("/email-verified?error=INVALID_TOKEN", false),
    ] {
        // Act
        let response = if signed_in {
            open(&app, &app.browser, path).await
        } else {
            visit(&app, path).await
        };

        // Assert
        let html = assert_html(&response);
        let scripts = html.matches("<script").count();
        let external = html
            .matches(r#"<script src="/assets/hallpass.js?v="#)
            .count();
        assert_eq!(scripts, external, "{path} has an inline script");
        assert_eq!(scripts, 1, "{path}");
        assert!(!html.contains(" style="), "{path} has an inline style");
        assert!(!html.contains("<style"), "{path} has a style element");
        assert!(
            !has_event_handler(&html),
            "{path} has an event handler attribute"
        );
    }
}

#[tokio::test]
async fn versioned_assets_are_cached_for_a_year_and_others_briefly() {
    // Arrange
    let app = spawn_app().await;
    let html = assert_html(&visit(&app, "/sign-in").await);
    let start = html
        .find("/assets/hallpass.css?v=")
        .expect("the page links its stylesheet");
    let link: String = html[start..].chars().take_while(|c| *c != '"').collect();

    // Act
    let versioned = visit(&app, &link).await;
    let unversioned = visit(&app, "/assets/hallpass.js").await;

    // Assert
    assert_eq!(versioned.status, StatusCode::OK);
    assert!(versioned
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/css")));
    assert_eq!(
        versioned.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        versioned.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(unversioned.status, StatusCode::OK);
    assert!(unversioned
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/javascript")));
    assert_eq!(
        unversioned.header("cache-control").as_deref(),
        Some("public, max-age=300")
    );
}

// ---- the account lifecycle's pages ----------------------------------------------------------

/// Every text, email and password input has a `<label for>` naming it (radios and checkboxes are
/// wrapped in theirs), and every `id` is used once.
#[track_caller]
fn assert_inputs_labelled(html: &str) {
    let mut ids = Vec::new();
    for (i, _) in html.match_indices("<input ") {
        let tag: String = html[i..].chars().take_while(|c| *c != '>').collect();
        let attr = |name: &str| {
            let key = format!(" {name}=\"");
            tag.find(&key).map(|start| {
                tag[start + key.len()..]
                    .chars()
                    .take_while(|c| *c != '"')
                    .collect::<String>()
            })
        };
        let kind = attr("type").unwrap_or_else(|| "text".to_owned());
        if matches!(kind.as_str(), "hidden" | "radio" | "checkbox") {
            continue;
        }
        let id = attr("id").unwrap_or_else(|| panic!("an input without an id: {tag}"));
        assert!(
            html.contains(&format!(r#"<label class="label" for="{id}">"#)),
            "no label for {id}: {tag}"
        );
        ids.push(id);
    }
    for id in &ids {
        assert_eq!(
            html.matches(&format!(r#" id="{id}""#)).count(),
            1,
            "id {id} is used more than once"
        );
    }
}

#[track_caller]
fn assert_contains_all(html: &str, expected: &[&str]) {
    for e in expected {
        assert!(html.contains(e), "missing {e:?} in {html}");
    }
}

/// Signs up in `app.browser` and asks for a reset link; returns the mailed link.
async fn reset_link(app: &TestApp, email: &str) -> String {
    app.signed_up(email).await;
    let asked = app
        .post_json(
            "/request-password-reset",
            &json!({"email": email, "redirectTo": "/reset-password"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text());
    app.mail_to(email, "Reset your").await.1
}

/// The mailed link of an API, followed once without redirects: its `Location`.
async fn follow(app: &TestApp, link: &str) -> String {
    let path = link
        .strip_prefix(&app.base_url)
        .unwrap_or_else(|| panic!("{link} is not on {}", app.base_url));
    let response = open(app, &app.browser, path).await;
    assert_eq!(response.status, StatusCode::FOUND, "{}", response.text());
    response.header("location").expect("a Location")
}

#[tokio::test]
async fn forgot_password_asks_for_an_address_and_sends_links_to_the_reset_page() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let html = assert_html(&visit(&app, "/forgot-password").await);

    // Assert
    assert_contains_all(
        &html,
        &[
            "<title>Reset your password · hallpass</title>",
            r#"data-endpoint="/request-password-reset""#,
            r#"<input type="hidden" name="redirectTo" value="/reset-password">"#,
            r#"name="email" type="email" autocomplete="email""#,
            r#"data-hp-done-step="sent""#,
            r#"<div data-hp-step="sent" hidden>"#,
            "Check your email",
            // The same words whatever the address.
            "If an account uses",
            "for 60 minutes",
            r#"href="/sign-in""#,
            "Asking for a reset link needs JavaScript",
        ],
    );
    assert_inputs_labelled(&html);
}

#[tokio::test]
async fn sign_in_offers_to_reset_a_forgotten_password() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let html = assert_html(&visit(&app, "/sign-in").await);

    // Assert
    assert!(
        html.contains(r#"<a class="small-link" href="/forgot-password">Forgot your password?</a>"#),
        "{html}"
    );
    assert_inputs_labelled(&html);
}

#[tokio::test]
async fn the_mailed_reset_link_lands_on_the_form_with_its_token() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("reset-page");
    let link = reset_link(&app, &email).await;

    // Act
    let location = follow(&app, &link).await;
    let prefix = format!("{}/reset-password?token=", app.base_url);
    let token = location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("the link leads to {location}"))
        .to_owned();
    let html = assert_html(&visit(&app, &format!("/reset-password?token={token}")).await);

    // Assert
    assert_contains_all(
        &html,
        &[
            "<title>Choose a new password · hallpass</title>",
            r#"data-endpoint="/reset-password""#,
            &format!(r#"<input type="hidden" name="token" value="{token}">"#),
            r#"<label class="label" for="hp-new-password">New password</label>"#,
            r#"<label class="label" for="hp-confirm-password">Confirm new password</label>"#,
            r#"minlength="8" maxlength="128""#,
            "At least 8 characters.",
            r#"data-hp-match="hp-new-password""#,
            r#"data-hp-invalid-step="invalid""#,
            r#"<div data-hp-step="done" hidden>"#,
            r#"<div data-hp-step="invalid" hidden>"#,
            r#"href="/sign-in">Sign in</a>"#,
        ],
    );
    assert!(
        !html.contains(r#"name="confirmPassword""#),
        "the repeated password would be sent: {html}"
    );
    assert_inputs_labelled(&html);
}

#[tokio::test]
async fn dead_reset_links_explain_themselves_and_offer_a_new_one() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("reset-dead");
    let link = reset_link(&app, &email).await;
    let token = link
        .split("/reset-password/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("a token in the link")
        .to_owned();
    let reset = app
        .post_json(
            "/reset-password",
            &json!({"newPassword": "another-long-password", "token": token}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text());
    let used = format!("/reset-password?token={token}");

    for path in [
        "/reset-password?token=no-such-token",
        "/reset-password?error=INVALID_TOKEN",
        "/reset-password",
        "/reset-password?token=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        used.as_str(),
    ] {
        // Act
        let html = assert_html(&visit(&app, path).await);

        // Assert
        assert_contains_all(
            &html,
            &[
                "This link doesn’t work any more",
                r#"<div data-hp-step="invalid">"#,
                r#"href="/forgot-password">Send me a new link</a>"#,
            ],
        );
        assert!(
            !html.contains(r#"data-hp-form="reset-password""#),
            "{path}: {html}"
        );
        assert!(!html.contains("<script>alert"), "{path}: {html}");
    }
}

#[tokio::test]
async fn verify_email_forwards_tokens_to_the_api_and_offers_a_new_link_otherwise() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let forwarded = visit(&app, "/verify-email?token=a.b+c").await;
    let landing = assert_html(&visit(&app, "/verify-email").await);
    let failed = assert_html(&visit(&app, "/verify-email?error=TOKEN_EXPIRED").await);

    // Assert
    assert_eq!(forwarded.status, StatusCode::SEE_OTHER);
    assert_eq!(
        forwarded.header("location").as_deref(),
        Some("/api/auth/verify-email?token=a.b+c&callbackURL=%2Femail-verified")
    );
    assert_contains_all(
        &landing,
        &[
            "Confirm your email address",
            r#"data-endpoint="/send-verification-email""#,
            r#"<input type="hidden" name="callbackURL" value="/email-verified">"#,
            r#"<div data-hp-step="sent" hidden>"#,
        ],
    );
    assert_inputs_labelled(&landing);
    assert_contains_all(&failed, &["This link has expired.", "TOKEN_EXPIRED"]);
}

#[tokio::test]
async fn verify_email_for_a_verified_reader_says_there_is_nothing_to_do() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("verified-already");
    app.signed_up(&email).await;
    app.state.auth.mark_verified(&email).await.unwrap();

    // Act
    let html = assert_html(&open(&app, &app.browser, "/verify-email").await);

    // Assert
    assert_contains_all(&html, &["Your email is already verified", &email]);
    assert!(!html.contains("data-hp-form"), "{html}");
}

#[tokio::test]
async fn the_verification_link_asked_for_by_the_pages_ends_on_email_verified() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("verify-link");
    app.signed_up(&email).await;
    // What the profile's "Verify my email" button sends.
    let asked = app
        .post_json(
            "/send-verification-email",
            &json!({"email": email, "callbackURL": "/email-verified"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text());
    let link = app.mail_to(&email, "Confirm your email").await.1;

    // Act
    let location = follow(&app, &link).await;
    let html = assert_html(&open(&app, &app.browser, &location).await);
    let again = follow(&app, &link.replace("token=", "token=x")).await;
    let error_html = assert_html(&open(&app, &app.browser, &again).await);

    // Assert
    assert_eq!(location, "/email-verified");
    assert_contains_all(
        &html,
        &[
            "<title>Email verified · hallpass</title>",
            "Your email is verified",
            &email,
            r#"href="/profile">Continue to your profile</a>"#,
        ],
    );
    assert_eq!(again, "/email-verified?error=INVALID_TOKEN");
    assert_contains_all(
        &error_html,
        &[
            "We couldn’t verify your email",
            "This link is invalid or has already been used.",
            "INVALID_TOKEN",
            r#"href="/profile">Go to your profile</a>"#,
        ],
    );
}

#[tokio::test]
async fn email_verified_errors_say_what_happened_and_how_to_get_a_new_link() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("unverified");
    app.signed_up(&email).await;

    // Act
    let signed_in =
        assert_html(&open(&app, &app.browser, "/email-verified?error=TOKEN_EXPIRED").await);
    let signed_out = assert_html(&visit(&app, "/email-verified?error=INVALID_TOKEN").await);
    let other_user =
        assert_html(&open(&app, &app.browser, "/email-verified?error=INVALID_USER").await);
    let script = assert_html(&visit(&app, "/email-verified?error=%3Cscript%3E").await);
    let success = assert_html(&visit(&app, "/email-verified").await);

    // Assert
    assert_contains_all(
        &signed_in,
        &[
            "<title>Link not valid · hallpass</title>",
            "This link has expired.",
            r#"data-hp-action="send-verification""#,
            &format!(r#"data-email="{email}""#),
            r#"data-callback="/email-verified""#,
            "Send me a new link",
        ],
    );
    assert_contains_all(
        &signed_out,
        &[
            "This link is invalid or has already been used.",
            r#"href="/sign-in?callbackURL=%2Fprofile""#,
            r#"href="/verify-email""#,
        ],
    );
    assert!(!signed_out.contains("data-hp-action"), "{signed_out}");
    assert_contains_all(
        &other_user,
        &["another account", r#"data-hp-action="sign-out""#],
    );
    assert!(script.contains("UNKNOWN"), "{script}");
    assert!(!script.contains("<script>"), "{script}");
    assert_contains_all(
        &success,
        &["Your email is verified", r#"href="/sign-in">Sign in</a>"#],
    );
}

#[tokio::test]
async fn profile_shows_the_address_status_the_sign_in_methods_and_the_lifecycle_forms() {
    // Arrange
    let app = spawn_app().await;
    let email = unique_email("lifecycle-profile");
    app.signed_up(&email).await;

    // Act
    let unverified = assert_html(&open(&app, &app.browser, "/profile").await);
    app.state.auth.mark_verified(&email).await.unwrap();
    let verified = assert_html(&open(&app, &app.browser, "/profile").await);

    // Assert
    assert_contains_all(
        &unverified,
        &[
            r#"<span class="badge badge-warn">Not verified</span>"#,
            "Verify my email",
            r#"data-hp-action="send-verification""#,
            &format!(r#"data-email="{email}""#),
            r#"data-callback="/email-verified""#,
            // list-accounts, as a person reads it
            "Sign-in methods",
            r#"<p class="session-device">Email and password</p>"#,
            // change of address
            r#"data-endpoint="/change-email""#,
            r#"<input type="hidden" name="callbackURL" value="/email-verified">"#,
            r#"<label class="label" for="hp-new-email">New email address</label>"#,
            "Check your new inbox",
            // deletion
            r#"data-endpoint="/delete-user""#,
            r#"data-next="/""#,
            r#"<label class="label" for="hp-delete-password">Your password</label>"#,
            "Delete my account",
        ],
    );
    assert_inputs_labelled(&unverified);
    assert!(
        verified.contains(r#"<span class="badge badge-success">Verified</span>"#),
        "{verified}"
    );
    assert!(!verified.contains("Verify my email"), "{verified}");
}

#[tokio::test]
async fn profile_leaves_out_changes_the_configuration_turns_off() {
    // Arrange
    let app = spawn_app_with(|toml, _| {
        toml.push_str("[email]\nallow_change = false\nallow_delete = false\n");
    })
    .await;
    app.signed_up(&unique_email("locked")).await;

    // Act
    let html = assert_html(&open(&app, &app.browser, "/profile").await);

    // Assert
    assert!(!html.contains("/change-email"), "{html}");
    assert!(!html.contains("/delete-user"), "{html}");
    assert!(html.contains("can’t be changed here"), "{html}");
}

#[tokio::test]
async fn sign_up_and_sign_in_are_ready_for_addresses_that_need_verifying() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let sign_up = assert_html(&visit(&app, "/sign-up").await);
    let sign_in = assert_html(&visit(&app, "/sign-in").await);

    // Assert
    assert_contains_all(
        &sign_up,
        &[
            r#"<input type="hidden" name="callbackURL" value="/email-verified">"#,
            r#"<div data-hp-step="verify" hidden>"#,
            "open the link we sent to",
            "Resend the link",
        ],
    );
    assert_contains_all(
        &sign_in,
        &[
            "data-hp-unverified",
            "Please confirm your email address first.",
            r#"data-hp-action="send-verification""#,
            "Resend the link",
        ],
    );
}

#[tokio::test]
async fn the_sign_up_page_callback_is_where_the_sign_up_mail_leads() {
    // Arrange: verification required, so sign-up mails a link and opens no session.
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_REQUIRE_EMAIL_VERIFICATION".into(), "true".into());
    })
    .await;
    let email = unique_email("needs-verifying");

    // Act: what the sign-up page's form sends.
    let up = app
        .sign_up(&email, PASSWORD, json!({"callbackURL": "/email-verified"}))
        .await;
    let link = app.mail_to(&email, "Confirm your email").await.1;
    let location = follow(&app, &link).await;

    // Assert
    assert_eq!(up.status, StatusCode::OK, "{}", up.text());
    assert_eq!(up.json()["token"], serde_json::Value::Null);
    assert_eq!(location, "/email-verified");
    let html = assert_html(&visit(&app, &location).await);
    assert!(html.contains("Your email is verified"), "{html}");
}
