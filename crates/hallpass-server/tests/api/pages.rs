//! The built-in pages (`/`, `/sign-in`, `/sign-up`, `/profile`, their assets) and Better Auth's
//! `GET /api/auth/error` page: what they show, where they send people, and the headers that keep
//! them from being framed, sniffed, cached or made to run injected markup.

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
        for path in ["/", "/sign-in", "/sign-up", "/profile"] {
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

    for path in ["/sign-in", "/sign-up", "/api/auth/error?error=X"] {
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

    for (path, signed_in) in [("/sign-in", false), ("/sign-up", false), ("/profile", true)] {
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
