//! Rate limits (Better Auth's rules, reference 8.1), the client address behind trusted proxies,
//! the per-account lock on failed sign-ins, and the connection limits (slowloris, slow bodies,
//! the bound on requests in flight).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMITED: &str = "Too many requests. Please try again later.";

/// An app with rate limits on, trusting the loopback peer as a proxy so each test picks client
/// addresses with `X-Forwarded-For`.
async fn limited_app(extra_toml: &str) -> TestApp {
    let extra = extra_toml.to_owned();
    spawn_app_with(move |file, env: &mut HashMap<String, String>| {
        env.insert("HALLPASS_RATE_LIMIT".into(), "on".into());
        env.insert("HALLPASS_TRUSTED_PROXIES".into(), "127.0.0.1".into());
        file.push_str(&extra);
    })
    .await
}

/// `POST /api/auth{path}` from client address `ip` (as the trusted proxy reports it).
async fn post_from(app: &TestApp, ip: &str, path: &str, body: &Value) -> TestResponse {
    let request = app
        .raw()
        .post(app.url(path))
        .header("origin", FRONTEND)
        .header("x-forwarded-for", ip)
        .json(body);
    app.send(request).await
}

async fn sign_in_from(app: &TestApp, ip: &str, email: &str, password: &str) -> TestResponse {
    post_from(
        app,
        ip,
        "/sign-in/email",
        &json!({"email": email, "password": password}),
    )
    .await
}

/// Signs a user up from an address of its own (so the sign-up rule does not get in the way).
async fn user(app: &TestApp, email: &str, ip: &str) {
    let body = json!({"name": "Ada", "email": email, "password": PASSWORD});
    let res = post_from(app, ip, "/sign-up/email", &body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

fn assert_limited(res: &TestResponse) -> u64 {
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    assert_eq!(res.json(), json!({ "message": LIMITED }));
    let retry: u64 = res
        .header("x-retry-after")
        .and_then(|v| v.parse().ok())
        .expect("X-Retry-After in seconds");
    assert!((1..=10).contains(&retry), "X-Retry-After {retry}");
    retry
}

#[tokio::test]
async fn the_fourth_sign_in_from_one_address_within_10_s_is_refused_with_retry_after() {
    let app = limited_app("").await;
    user(&app, "ada@example.com", "198.51.100.200").await;

    for _ in 0..3 {
        let res = sign_in_from(&app, "198.51.100.1", "ada@example.com", "wrong-password").await;
        res.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    }
    // Refused even with the right password: the handler is not reached.
    let refused = sign_in_from(&app, "198.51.100.1", "ada@example.com", PASSWORD).await;
    assert_limited(&refused);
    // Another client is counted apart.
    let other = sign_in_from(&app, "198.51.100.2", "ada@example.com", PASSWORD).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text());
}

#[tokio::test]
async fn the_rest_login_shares_the_sign_in_bucket() {
    let app = limited_app("").await;
    user(&app, "ada@example.com", "198.51.100.200").await;
    let ip = "198.51.100.3";
    for _ in 0..2 {
        sign_in_from(&app, ip, "ada@example.com", "wrong-password").await;
    }
    let login = |app: &TestApp| {
        app.raw()
            .post(format!("{}/auth/login", app.address))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": "ada@example.com", "password": "wrong-password"}))
    };
    let third = app.send(login(&app)).await;
    third.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    assert_limited(&app.send(login(&app)).await);
    assert_limited(&sign_in_from(&app, ip, "ada@example.com", PASSWORD).await);
}

#[tokio::test]
async fn without_a_trusted_proxy_x_forwarded_for_cannot_pick_a_new_bucket() {
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_RATE_LIMIT".into(), "on".into());
    })
    .await;
    for i in 0..3 {
        let res = sign_in_from(
            &app,
            &format!("203.0.113.{i}"),
            "nobody@example.com",
            "x-password",
        )
        .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // The peer (127.0.0.1) is the client, whatever the header says.
    assert_limited(&sign_in_from(&app, "203.0.113.99", "nobody@example.com", "x-password").await);
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64() {
    let app = limited_app("").await;
    for i in 1..=3 {
        let res = sign_in_from(
            &app,
            &format!("2001:db8:0:1::{i}"),
            "nobody@example.com",
            "x-password",
        )
        .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // Same /64, another interface id: the same subscriber.
    assert_limited(
        &sign_in_from(
            &app,
            "2001:db8:0:1:ffff::9",
            "nobody@example.com",
            "x-password",
        )
        .await,
    );
    // Another /64 is another client.
    let other = sign_in_from(&app, "2001:db8:0:2::1", "nobody@example.com", "x-password").await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn limits_are_off_in_development_unless_enabled() {
    let app = spawn_app().await;
    for _ in 0..6 {
        let res = app
            .sign_in("nobody@example.com", "x-password", json!({}))
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn session_reads_are_not_limited_but_other_writes_are() {
    let app = limited_app("[rate_limit]\nmax = 5\n").await;
    let browser = app.new_browser();
    browser.signed_up("ada@example.com").await;
    // 150 checks in well under 10 s, past the general maximum: all answered.
    for _ in 0..150 {
        assert_eq!(browser.get("/get-session").await.status, StatusCode::OK);
    }
    // Writes other than the special rules follow window/max (5 here), per client.
    let update = |n: u32| {
        app.raw()
            .post(app.url("/update-user"))
            .header("origin", FRONTEND)
            .header("cookie", browser.cookie_header().unwrap_or_default())
            .header("x-forwarded-for", "198.51.100.7")
            .json(&json!({"name": format!("Ada {n}")}))
    };
    for n in 0..5 {
        let res = app.send(update(n)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
    assert_limited(&app.send(update(5)).await);
}

/// Spellings of the sign-in path that a router might treat as another route: none may reach a
/// handler once the client is limited (and none may reach one at all with an untrusted origin).
#[tokio::test]
async fn path_tricks_neither_skip_the_limiter_nor_the_origin_check() {
    let app = limited_app("").await;
    user(&app, "ada@example.com", "198.51.100.200").await;
    for _ in 0..3 {
        sign_in_from(&app, "127.0.0.1", "ada@example.com", "wrong-password").await;
    }
    let body = format!(r#"{{"email":"ada@example.com","password":"{PASSWORD}"}}"#);
    for path in [
        "/api/auth/sign-in/email",
        "//api/auth/sign-in/email",
        "/api/auth//sign-in/email",
        "/api/auth/sign-in/email/",
        "/API/auth/sign-in/email",
        "/api/auth/Sign-In/email",
        "/api/auth/sign-in%2Femail",
        "/api/auth/sign-%69n/email",
        "/api/auth/%73ign-in/email",
        "/api/auth/x/../sign-in/email",
        "/api/auth/./sign-in/email",
        "/api/auth/sign-in/email?x=1",
        "/api/auth/sign-in/email#x",
        "/api/auth/sign-in/email;x",
        "/api/auth/sign-in/email%00",
    ] {
        let (status, text) = raw_post(&app, path, FRONTEND, &body).await;
        assert!(
            status == 429 || status == 404 || status == 400,
            "{path}: {status} {text}"
        );
        assert!(!text.contains("\"token\""), "{path} signed in: {text}");
    }
    // The origin check, with a cookie and an untrusted origin, from a fresh client address.
    let app = spawn_app().await;
    app.signed_up("eve@example.com").await;
    for path in [
        "/api/auth/sign-out",
        "//api/auth/sign-out",
        "/api/auth/sign-out/",
        "/API/auth/sign-out",
    ] {
        let (status, text) = raw_post_with_cookie(
            &app,
            path,
            EVIL,
            "{}",
            &app.cookie_header().unwrap_or_default(),
        )
        .await;
        assert!(status == 403 || status == 404, "{path}: {status} {text}");
        assert!(!text.contains("\"success\""), "{path}: {text}");
    }
}

async fn raw_post(app: &TestApp, path: &str, origin: &str, body: &str) -> (u16, String) {
    raw_post_with_cookie(app, path, origin, body, "").await
}

/// Sends a request byte for byte (clients normalize paths; an attacker does not).
async fn raw_post_with_cookie(
    app: &TestApp,
    path: &str,
    origin: &str,
    body: &str,
    cookie: &str,
) -> (u16, String) {
    let cookie = if cookie.is_empty() {
        String::new()
    } else {
        format!("Cookie: {cookie}\r\n")
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nContent-Type: application/json\r\n{cookie}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = raw_exchange(&app.address, request.as_bytes()).await;
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

async fn raw_exchange(address: &str, request: &[u8]) -> String {
    let addr = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(request).await.expect("sends");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account_whatever_the_address_but_not_its_known_browser() {
    let app = limited_app("[rate_limit]\naccount_failures = 3\naccount_window = 2\n").await;
    // The owner signs up and in from their browser, which is then known for the account.
    let owner = app.new_browser();
    owner.signed_up("ada@example.com").await;
    let known = owner.sign_in("ada@example.com", PASSWORD, json!({})).await;
    assert_eq!(known.status, StatusCode::OK);
    assert!(known.set_cookie("hallpass.known_device").is_some());

    // An attacker rotating addresses: three wrong guesses, then even the right password is refused.
    for i in 0..3 {
        let res = sign_in_from(
            &app,
            &format!("203.0.113.{i}"),
            "ADA@example.com",
            "guess-password",
        )
        .await;
        res.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    }
    let locked = sign_in_from(&app, "203.0.113.50", "ada@example.com", PASSWORD).await;
    assert_limited(&locked);
    // Other accounts are not affected.
    let other = sign_in_from(&app, "203.0.113.51", "bob@example.com", "guess-password").await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    // The owner's browser still gets in.
    let owner_again = owner.sign_in("ada@example.com", PASSWORD, json!({})).await;
    assert_eq!(owner_again.status, StatusCode::OK, "{}", owner_again.text());
    // A forged known-device cookie does not.
    let forged = app.new_browser();
    forged.set_cookie(
        "hallpass.known_device",
        "0123456789abcdef0123456789abcdef.AAAA",
    );
    let res = forged.sign_in("ada@example.com", PASSWORD, json!({})).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);

    // The lock ends with its window.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = sign_in_from(&app, "203.0.113.60", "ada@example.com", PASSWORD).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.text());
}

/// Concurrent guesses cannot all slip past a check made before any of them failed: exactly
/// `account_failures` passwords are tried.
#[tokio::test]
async fn concurrent_guesses_get_exactly_the_account_budget() {
    let app = limited_app("[rate_limit]\naccount_failures = 4\n").await;
    user(&app, "ada@example.com", "198.51.100.200").await;
    let guesses = (0..24).map(|i| {
        let request = app
            .raw()
            .post(app.url("/sign-in/email"))
            .header("origin", FRONTEND)
            .header(
                "x-forwarded-for",
                format!("203.0.{}.{}", i / 200, i % 200 + 1),
            )
            .json(&json!({"email": "ada@example.com", "password": format!("guess-{i}-password")}));
        tokio::spawn(async move { request.send().await.map(|r| r.status()) })
    });
    let mut tried = 0;
    let mut refused = 0;
    for g in guesses.collect::<Vec<_>>() {
        match g.await.unwrap().unwrap() {
            StatusCode::UNAUTHORIZED => tried += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((tried, refused), (4, 20));
}

/// A correct password gives its attempt back: an owner who signs in often is never locked.
#[tokio::test]
async fn successful_sign_ins_do_not_count_against_the_account() {
    let app = limited_app("[rate_limit]\naccount_failures = 2\n").await;
    user(&app, "ada@example.com", "198.51.100.200").await;
    for i in 0..6 {
        let res = sign_in_from(
            &app,
            &format!("198.51.100.{}", 10 + i),
            "ada@example.com",
            PASSWORD,
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "sign-in {i}: {}", res.text());
    }
}

/// Two instances sharing one database share their counters (`storage = "database"`): the limit
/// holds across them.
#[tokio::test]
async fn two_instances_on_one_database_share_the_limit() {
    let toml = "[rate_limit]\nstorage = \"database\"\n";
    let a = limited_app(toml).await;
    let b = spawn_app_sharing_with(&a, |file, env| {
        env.insert("HALLPASS_RATE_LIMIT".into(), "on".into());
        env.insert("HALLPASS_TRUSTED_PROXIES".into(), "127.0.0.1".into());
        file.push_str("[rate_limit]\nstorage = \"database\"\n");
    })
    .await;
    let ip = "198.51.100.77";
    assert_eq!(
        sign_in_from(&a, ip, "x@example.com", "x-password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_from(&b, ip, "x@example.com", "x-password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_from(&a, ip, "x@example.com", "x-password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_limited(&sign_in_from(&b, ip, "x@example.com", "x-password").await);
    assert_limited(&sign_in_from(&a, ip, "x@example.com", "x-password").await);
    let buckets = "select count(*) from rateLimit where key like '%|/sign-in/email'";
    assert_eq!(a.count(buckets).await, 1);
}

// ---- connection limits ---------------------------------------------------------------------

async fn app_with_timeouts() -> TestApp {
    spawn_app_with(|file, _| {
        file.push_str("[server]\nheader_timeout = 1\nrequest_timeout = 2\n");
    })
    .await
}

/// A client that opens a connection and sends its headers a byte at a time (slowloris), or
/// nothing at all, is disconnected after the header timeout.
#[tokio::test]
async fn slow_or_silent_connections_are_closed_after_the_header_timeout() {
    let app = app_with_timeouts().await;
    let addr = app.address.trim_start_matches("http://").to_owned();

    let silent_started = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let slow_task = tokio::spawn(async move {
        let head = b"GET /api/auth/ok HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
        let mut closed_after = None;
        let started = Instant::now();
        for _ in 0..40 {
            if slow.write_all(&head[..1]).await.is_err() {
                closed_after = Some(started.elapsed());
                break;
            }
            let mut buf = [0u8; 256];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buf)).await
            {
                // Closed (0) or an error answer: either way the server gave up on us.
                let _ = n;
                closed_after = Some(started.elapsed());
                break;
            }
        }
        closed_after
    });
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the silent connection is still open after 5 s"
    );
    let silent_elapsed = silent_started.elapsed();
    assert!(
        silent_elapsed < Duration::from_secs(3),
        "closed after {silent_elapsed:?}"
    );

    let slow_closed = slow_task.await.unwrap();
    assert!(
        slow_closed.is_some_and(|d| d < Duration::from_secs(4)),
        "the slow connection was kept: {slow_closed:?}"
    );
    // The server still answers others.
    assert_eq!(app.get("/ok").await.status, StatusCode::OK);
}

/// A body that trickles in is cut off at the request timeout with 408 in the error shape.
#[tokio::test]
async fn a_slow_body_gets_408_at_the_request_timeout() {
    let app = app_with_timeouts().await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":")
        .await
        .unwrap();
    let writer = tokio::spawn(async move {
        let mut stream = stream;
        let mut answer = Vec::new();
        loop {
            let mut buf = [0u8; 1024];
            tokio::select! {
                n = stream.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                },
                () = tokio::time::sleep(Duration::from_millis(300)) => {
                    if stream.write_all(b" ").await.is_err() { break; }
                }
            }
            if started.elapsed() > Duration::from_secs(8) {
                break;
            }
        }
        answer
    });
    let answer = String::from_utf8_lossy(&writer.await.unwrap()).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Past `max_requests` in flight, requests are answered 503 at once instead of queueing.
#[tokio::test]
async fn requests_past_the_in_flight_bound_get_503() {
    let app = spawn_app_with(|file, _| {
        file.push_str("[server]\nmax_requests = 2\nrequest_timeout = 5\n");
    })
    .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    // Two requests whose bodies never finish hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = app.get("/ok").await;
    busy.assert_error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get("/ok").await.status, StatusCode::OK);
}
