//! The test harness: `spawn_app()` starts the real application on a free port with a fresh SQLite
//! database and returns a [`TestApp`] with typed helpers, in the manner of zero-to-production's
//! `tests/api/helpers.rs`.

use base64::{engine::general_purpose::STANDARD, Engine};
use hallpass_server::config::{Config, FileConfig, Overrides};
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

/// The secret every test app runs with (the reference's test secret, so its vectors apply).
pub const SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";
/// The trusted front end (hallpass trusts the Docusaurus dev server by default).
pub const FRONTEND: &str = "http://localhost:3000";
/// An origin nobody trusts.
pub const EVIL: &str = "http://evil.example";
/// A password that satisfies the default rules.
pub const PASSWORD: &str = "correct-horse-battery";
/// The session cookie's name on an http base URL.
pub const SESSION_COOKIE: &str = "better-auth.session_token";
/// The cookie that marks a session made with `rememberMe: false`.
pub const DONT_REMEMBER_COOKIE: &str = "better-auth.dont_remember";

/// A running application with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`: where requests go.
    pub address: String,
    /// `http://localhost:<port>`: the configured base URL (JWT issuer, trusted origin).
    pub base_url: String,
    /// A pool on that file, for arranging and asserting rows.
    pub db: SqlitePool,
    /// The default browser: a cookie jar that sends `Origin: http://localhost:3000` on POSTs.
    pub browser: Browser,
    /// The application's state (its `AuthService`, its configuration).
    pub state: hallpass_server::state::AppState,
    server: tokio::task::JoinHandle<()>,
    // Kept alive as long as the app: dropping it deletes the database.
    dir: Arc<TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::ops::Deref for TestApp {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// Edits the configuration an app starts from: the `hallpass.toml` text (empty by default) and
/// the environment the configuration sees (only these variables, nothing of the real environment).
pub type Configure<'a> = dyn FnOnce(&mut String, &mut HashMap<String, String>) + 'a;

/// Starts the application with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_, _| {}).await
}

/// Starts the application after `configure(file_config_toml, env)` has edited its configuration.
pub async fn spawn_app_with(
    configure: impl FnOnce(&mut String, &mut HashMap<String, String>),
) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("a temporary directory"));
    spawn_on(dir, Box::new(configure)).await
}

/// Starts a second application on the database file (and secret) of `other`.
pub async fn spawn_app_sharing(other: &TestApp) -> TestApp {
    spawn_on(Arc::clone(&other.dir), Box::new(|_, _| {})).await
}

/// Starts a second application on the database file of `other`, configured by `configure`.
pub async fn spawn_app_sharing_with(
    other: &TestApp,
    configure: impl FnOnce(&mut String, &mut HashMap<String, String>),
) -> TestApp {
    spawn_on(Arc::clone(&other.dir), Box::new(configure)).await
}

async fn spawn_on(dir: Arc<TempDir>, configure: Box<Configure<'_>>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("a local address").port();
    let base_url = format!("http://localhost:{port}");
    let db_path = dir.path().join("hallpass.db");
    let db_url = format!("sqlite://{}", db_path.display());

    let mut file_toml = String::new();
    let mut env = HashMap::from([
        ("HALLPASS_SECRET".to_owned(), SECRET.to_owned()),
        ("DATABASE_URL".to_owned(), db_url.clone()),
        ("HALLPASS_BASE_URL".to_owned(), base_url.clone()),
    ]);
    configure(&mut file_toml, &mut env);
    let file: FileConfig = toml::from_str(&file_toml).expect("a valid hallpass.toml");
    let config = Config::resolve(file, &Overrides::default(), &|k| env.get(k).cloned())
        .expect("a valid configuration");
    let (router, state) = hallpass_server::app::build(config)
        .await
        .expect("the application starts");
    let limits = state.config.server.clone();
    let server = tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        let _ = hallpass_server::serve::serve(listener, router, &limits, forever).await;
    });

    // Created when missing: an application configured onto PostgreSQL leaves no file behind.
    let options = SqliteConnectOptions::from_str(&db_url)
        .expect("a SQLite URL")
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(10));
    let db = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("the test pool opens the database");

    let address = format!("http://127.0.0.1:{port}");
    TestApp {
        browser: Browser::new(&address),
        state,
        address,
        base_url,
        db,
        server,
        dir,
    }
}

impl TestApp {
    /// The outbox folder (mail without SMTP) of this app's database.
    pub fn outbox(&self) -> std::path::PathBuf {
        self.dir.path().join("outbox")
    }

    /// Waits (up to 5 s) for a message to `to` in the outbox whose subject contains `subject`,
    /// and returns its decoded text with the first link in it.
    pub async fn mail_to(&self, to: &str, subject: &str) -> (String, String) {
        for _ in 0..100 {
            if let Some(found) = read_outbox(&self.outbox(), to, subject) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail to {to} about {subject:?} in {}",
            self.outbox().display()
        );
    }

    /// How many messages to `to` are in the outbox.
    pub fn mail_count(&self, to: &str) -> usize {
        eml_files(&self.outbox())
            .iter()
            .filter(|text| header_of(text, "To").is_some_and(|t| t.contains(to)))
            .count()
    }

    /// A new browser with an empty cookie jar.
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// A plain HTTP client: no cookies, no redirects, no default headers.
    pub fn raw(&self) -> reqwest::Client {
        client()
    }

    /// An absolute URL for a path under `/api/auth`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/auth{path}", self.address)
    }

    /// Sends a request built by hand and reads the whole answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        TestResponse::read(request.send().await.expect("the server answers")).await
    }

    /// The number a `select count(*) …` query answers.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db)
            .await
            .expect("a counting query")
    }

    /// The `user` row with this email, as JSON (column name → value).
    pub async fn user_row(&self, email: &str) -> Option<Value> {
        let row = sqlx::query(
            "select id, name, email, emailVerified, image, createdAt, updatedAt, \
             software_background, hardware_background from \"user\" where email = ?",
        )
        .bind(email)
        .fetch_optional(&self.db)
        .await
        .expect("a user query")?;
        use sqlx::Row;
        Some(json!({
            "id": row.get::<String, _>("id"),
            "name": row.get::<String, _>("name"),
            "email": row.get::<String, _>("email"),
            "emailVerified": row.get::<i64, _>("emailVerified"),
            "image": row.get::<Option<String>, _>("image"),
            "createdAt": row.get::<String, _>("createdAt"),
            "updatedAt": row.get::<String, _>("updatedAt"),
            "software_background": row.get::<Option<String>, _>("software_background"),
            "hardware_background": row.get::<Option<String>, _>("hardware_background"),
        }))
    }

    /// The session row with this token: (expiresAt, createdAt, updatedAt, userId).
    pub async fn session_row(&self, token: &str) -> Option<(String, String, String, String)> {
        sqlx::query_as(
            "select expiresAt, createdAt, updatedAt, userId from session where token = ?",
        )
        .bind(token)
        .fetch_optional(&self.db)
        .await
        .expect("a session query")
    }

    /// Sets a column of a session row directly, as an out-of-band change would.
    pub async fn set_session_date(&self, token: &str, column: &str, value: &str) {
        let sql = format!("update session set \"{column}\" = ? where token = ?");
        let done = sqlx::query(&sql)
            .bind(value)
            .bind(token)
            .execute(&self.db)
            .await
            .expect("a session update");
        assert_eq!(done.rows_affected(), 1, "no session has token {token}");
    }

    /// Inserts a session for a user straight into the database and returns its token, so tests
    /// that need many sessions do not pay a password hash for each.
    pub async fn insert_session(&self, user_id: &str) -> String {
        let token = random_id();
        let now = chrono::Utc::now();
        sqlx::query(
            "insert into session (id, expiresAt, token, createdAt, updatedAt, ipAddress, userAgent, userId) \
             values (?, ?, ?, ?, ?, '', '', ?)",
        )
        .bind(random_id())
        .bind(iso(now + chrono::Duration::days(7)))
        .bind(&token)
        .bind(iso(now))
        .bind(iso(now))
        .bind(user_id)
        .execute(&self.db)
        .await
        .expect("a session insert");
        token
    }
}

/// A browser: its own cookie jar, and `Origin: http://localhost:3000` on every POST, as a page of
/// the documentation site would send.
pub struct Browser {
    address: String,
    http: reqwest::Client,
    jar: Mutex<Vec<(String, String)>>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

impl Browser {
    fn new(address: &str) -> Browser {
        Browser {
            address: address.to_owned(),
            http: client(),
            jar: Mutex::new(Vec::new()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/auth{path}", self.address)
    }

    /// The `Cookie` header this browser would send, if any.
    pub fn cookie_header(&self) -> Option<String> {
        let jar = self.jar.lock().expect("the jar");
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Puts a cookie in the jar by hand.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.jar.lock().expect("the jar");
        jar.retain(|(k, _)| k != name);
        jar.push((name.to_owned(), value.to_owned()));
    }

    fn store(&self, response: &TestResponse) {
        let mut jar = self.jar.lock().expect("the jar");
        for c in response.set_cookies() {
            jar.retain(|(k, _)| *k != c.name);
            if c.max_age != Some(0) {
                jar.push((c.name, c.value));
            }
        }
    }

    /// Sends a request with this browser's cookies and stores the cookies of the answer.
    pub async fn request(&self, mut request: reqwest::RequestBuilder) -> TestResponse {
        if let Some(cookies) = self.cookie_header() {
            request = request.header("cookie", cookies);
        }
        let response = TestResponse::read(request.send().await.expect("the server answers")).await;
        self.store(&response);
        response
    }

    /// `POST /api/auth{path}` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.request(
            self.http
                .post(self.url(path))
                .header("origin", FRONTEND)
                .json(body),
        )
        .await
    }

    /// `GET /api/auth{path}`.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(self.http.get(self.url(path))).await
    }

    /// Signs up with a name, email and password plus `extra` keys (profile fields and options).
    pub async fn sign_up(&self, email: &str, password: &str, extra: Value) -> TestResponse {
        let mut body = json!({"name": "Ada Lovelace", "email": email, "password": password});
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        self.post_json("/sign-up/email", &body).await
    }

    /// Signs in with an email and password plus `extra` keys (callbackURL, rememberMe).
    pub async fn sign_in(&self, email: &str, password: &str, extra: Value) -> TestResponse {
        let mut body = json!({"email": email, "password": password});
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        self.post_json("/sign-in/email", &body).await
    }

    /// Signs up a user and panics unless it worked; returns the answer's `{token, user}`.
    pub async fn signed_up(&self, email: &str) -> Value {
        let response = self.sign_up(email, PASSWORD, json!({})).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "sign-up: {}",
            response.text()
        );
        response.json()
    }

    /// `GET /get-session`, as JSON (`null` when signed out).
    pub async fn session(&self) -> Value {
        let response = self.get("/get-session").await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }
}

/// A whole answer, read at once.
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// A `Set-Cookie` header, parsed.
#[derive(Debug, Clone)]
pub struct SetCookie {
    /// The cookie name.
    pub name: String,
    /// The value as sent (URL-encoded).
    pub value: String,
    /// `Max-Age`, when present.
    pub max_age: Option<i64>,
    /// The whole header.
    pub raw: String,
}

impl TestResponse {
    async fn read(response: reqwest::Response) -> TestResponse {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a readable body").to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(HeaderName::from_str(name).ok()?)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Every `Set-Cookie`, parsed.
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v: &HeaderValue| v.to_str().ok())
            .filter_map(|raw| {
                let mut parts = raw.split(';');
                let (name, value) = parts.next()?.split_once('=')?;
                let max_age = parts.find_map(|p| {
                    let (k, v) = p.trim().split_once('=')?;
                    k.eq_ignore_ascii_case("max-age").then(|| v.parse().ok())?
                });
                Some(SetCookie {
                    name: name.trim().to_owned(),
                    value: value.trim().to_owned(),
                    max_age,
                    raw: raw.to_owned(),
                })
            })
            .collect()
    }

    /// The `Set-Cookie` for one cookie name.
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies().into_iter().find(|c| c.name == name)
    }

    /// Asserts a Better Auth error: this status, this code, and a body of exactly
    /// `{"message", "code"}`. Returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.text());
        let body = self.json();
        assert_eq!(body["code"], code, "body: {body}");
        assert_error_shape(&body);
        body["message"].as_str().unwrap_or_default().to_owned()
    }
}

/// Asserts that a JSON error body is `{"message": string, "code"?: string}` and nothing else.
#[track_caller]
pub fn assert_error_shape(body: &Value) {
    let Some(obj) = body.as_object() else {
        panic!("an error body must be an object: {body}");
    };
    assert!(
        obj["message"].is_string(),
        "message must be a string: {body}"
    );
    assert!(
        obj.get("code").is_none_or(Value::is_string),
        "code must be a string when present: {body}"
    );
    assert!(
        obj.keys().all(|k| k == "message" || k == "code"),
        "an error body has only message and code: {body}"
    );
}

/// `encodeURIComponent(token + "." + base64(HMAC-SHA256(secret, token)))`, the session cookie
/// value Better Auth sends (reference, 4.2), computed here independently of the server.
pub fn signed_cookie_value(token: &str) -> String {
    let signed = signed(token);
    signed
        .replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// `token + "." + base64(HMAC-SHA256(secret, token))`, as a bearer token.
pub fn signed(token: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("any key size");
    mac.update(token.as_bytes());
    format!("{token}.{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A 32-character `[A-Za-z0-9]` id like Better Auth's.
pub fn random_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A date as Better Auth stores it in SQLite: ISO-8601 with milliseconds and `Z`.
pub fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses a stored or returned ISO date.
pub fn parse_iso(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s:?} is not an ISO date: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Asserts that `actual` is within `tolerance` seconds of `expected`.
#[track_caller]
pub fn assert_close(
    actual: chrono::DateTime<chrono::Utc>,
    expected: chrono::DateTime<chrono::Utc>,
    tolerance: i64,
) {
    let off = (actual - expected).num_seconds().abs();
    assert!(
        off <= tolerance,
        "{actual} is {off} s away from {expected} (tolerance {tolerance} s)"
    );
}

/// A unique email address for a test.
pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", random_id().to_lowercase())
}

fn eml_files(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

fn header_of(eml: &str, name: &str) -> Option<String> {
    eml.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

/// Quoted-printable, as mail encodes long lines.
fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_outbox(dir: &std::path::Path, to: &str, subject: &str) -> Option<(String, String)> {
    eml_files(dir).into_iter().rev().find_map(|eml| {
        let to_ok = header_of(&eml, "To").is_some_and(|t| t.contains(to));
        let subject_ok = header_of(&eml, "Subject").is_some_and(|s| s.contains(subject));
        if !(to_ok && subject_ok) {
            return None;
        }
        let text = decode_qp(&eml);
        let start = text.find("http")?;
        let link: String = text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect();
        Some((text, link))
    })
}
