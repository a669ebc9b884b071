//! The barrage's requests: broken bodies, wrongly typed and odd field values, hostile headers.

use super::{Barrage, Case, Endpoint, Expect, Kind};
use crate::helpers::*;
use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};

/// Stands for a lone surrogate escape, which no Rust string can hold: swapped in after serializing.
const LONE_SURROGATE: &str = "\u{E000}lone-surrogate\u{E000}";

/// Strings that are valid Unicode but odd: NUL, a lone surrogate escape, RTL override, emoji,
/// stacked combining marks, a BOM, the last code point, and a mix.
fn odd_strings() -> Vec<String> {
    vec![
        "nul\u{0}inside".into(),
        LONE_SURROGATE.into(),
        "\u{202E}gnp.exe".into(),
        "😀🎉👩‍👩‍👧‍👦".into(),
        "e\u{301}\u{301}\u{301}\u{301}\u{301}\u{301}".into(),
        "\u{FEFF}bom".into(),
        "\u{10FFFF}\u{FFFF}".into(),
        "ß\u{0130}\u{212A}\u{FF21}".into(),
        "\r\n\t\u{7F}".into(),
    ]
}

/// The body as JSON text, with [`LONE_SURROGATE`] written as the escape `\ud800`.
fn to_bytes(body: &Value) -> Vec<u8> {
    let text = body.to_string();
    let text = text.replace(LONE_SURROGATE, "\\ud800");
    text.into_bytes()
}

/// Raw header bytes (anything HTTP allows, including bytes that are not UTF-8).
fn header(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("a header value that HTTP allows")
}

impl Barrage<'_> {
    /// A body the endpoint accepts.
    pub(super) fn valid_body(&self, endpoint: &Endpoint) -> Value {
        match endpoint.path {
            "/sign-up/email" => {
                json!({"name": "Barrage", "email": unique_email("new"), "password": PASSWORD})
            }
            "/sign-in/email" => json!({"email": self.email, "password": PASSWORD}),
            "/update-user" => json!({"name": "Barrage"}),
            "/change-password" => json!({"currentPassword": PASSWORD, "newPassword": PASSWORD}),
            "/revoke-session" => json!({"token": random_id()}),
            _ => json!({}),
        }
    }

    /// Body-level cases: broken JSON, wrong media types, non-objects, deep nesting, a huge body.
    pub(super) fn body_cases(&self, endpoint: &Endpoint) -> Vec<Case> {
        let post = endpoint.method == Method::POST;
        let strict = |e: Expect| if post { e } else { Expect::Any };
        let form_ok = matches!(endpoint.path, "/sign-in/email" | "/sign-up/email");
        let optional_body = matches!(
            endpoint.path,
            "/sign-out" | "/revoke-sessions" | "/revoke-other-sessions"
        );
        // Better Auth takes no body on these and ignores any well-formed JSON (checked against
        // the pinned Better Auth 1.7.24): a non-object body is answered as an empty one.
        let body_ignored = matches!(endpoint.path, "/revoke-sessions" | "/revoke-other-sessions");
        let non_object = |e: Expect| {
            if body_ignored {
                Expect::Status(200)
            } else {
                strict(e)
            }
        };
        let valid = to_bytes(&self.valid_body(endpoint));
        let json = Some("application/json");
        let mut big = self.valid_body(endpoint);
        big["padding"] = Value::String("x".repeat(2 * 1024 * 1024));
        let raw = |label: &str, ct: Option<&'static str>, body: Vec<u8>, expect: Expect| Case {
            label: label.to_owned(),
            content_type: ct,
            body: Some(body),
            headers: Vec::new(),
            with_session: true,
            expect,
        };
        vec![
            raw(
                "invalid JSON",
                json,
                b"{\"name\": ".to_vec(),
                strict(Expect::Status(400)),
            ),
            raw(
                "unterminated string",
                json,
                b"{\"name\": \"abc".to_vec(),
                strict(Expect::Status(400)),
            ),
            raw(
                "trailing garbage",
                json,
                [valid.clone(), b"}}".to_vec()].concat(),
                strict(Expect::Status(400)),
            ),
            raw(
                "text/plain",
                Some("text/plain"),
                valid.clone(),
                strict(Expect::Status(415)),
            ),
            raw(
                "no content type",
                None,
                valid.clone(),
                strict(Expect::Status(415)),
            ),
            raw(
                "multipart",
                Some("multipart/form-data; boundary=x"),
                b"--x\r\n\r\n--x--".to_vec(),
                strict(Expect::Status(415)),
            ),
            raw(
                "an array",
                json,
                b"[1, 2, 3]".to_vec(),
                non_object(Expect::Status(400)),
            ),
            raw(
                "a string",
                json,
                b"\"hello\"".to_vec(),
                non_object(Expect::Status(400)),
            ),
            raw(
                "a number",
                json,
                b"42".to_vec(),
                non_object(Expect::Status(400)),
            ),
            raw(
                "null",
                json,
                b"null".to_vec(),
                non_object(Expect::Status(400)),
            ),
            raw(
                "true",
                json,
                b"true".to_vec(),
                non_object(Expect::Status(400)),
            ),
            raw(
                "10,000 nested arrays",
                json,
                ["[".repeat(10_000), "]".repeat(10_000)]
                    .concat()
                    .into_bytes(),
                strict(Expect::Status(400)),
            ),
            raw(
                "10,000 unclosed arrays",
                json,
                "[".repeat(10_000).into_bytes(),
                strict(Expect::Status(400)),
            ),
            raw(
                "10,000 nested objects",
                json,
                ["{\"a\":".repeat(10_000), "1".into(), "}".repeat(10_000)]
                    .concat()
                    .into_bytes(),
                strict(Expect::Status(400)),
            ),
            raw(
                "2 MiB body",
                json,
                to_bytes(&big),
                strict(Expect::Status(413)),
            ),
            raw(
                "invalid UTF-8 inside a JSON string",
                json,
                b"{\"name\": \"\xff\xfe\"}".to_vec(),
                strict(Expect::Status(400)),
            ),
            raw(
                "a byte-order mark",
                json,
                [b"\xEF\xBB\xBF".to_vec(), valid.clone()].concat(),
                Expect::Any,
            ),
            raw(
                "a form body",
                Some("application/x-www-form-urlencoded"),
                b"name=a&email=b".to_vec(),
                if form_ok {
                    Expect::Any
                } else {
                    strict(Expect::Status(415))
                },
            ),
            raw(
                "an empty JSON body",
                json,
                Vec::new(),
                if optional_body {
                    Expect::Any
                } else {
                    strict(Expect::Status(400))
                },
            ),
            raw(
                "JSON with a charset",
                Some("application/json; charset=utf-8"),
                valid.clone(),
                Expect::Any,
            ),
            raw(
                "upper-case media type",
                Some("APPLICATION/JSON"),
                valid.clone(),
                Expect::Any,
            ),
            raw(
                "duplicate keys",
                json,
                b"{\"name\": \"a\", \"name\": \"b\", \"token\": \"t\", \"token\": \"u\"}".to_vec(),
                Expect::Any,
            ),
            raw("the valid body", json, valid, Expect::Any),
        ]
    }

    /// Field-level cases: every field given every wrong type, a huge string and odd Unicode.
    pub(super) fn field_cases(&self, endpoint: &Endpoint) -> Vec<Case> {
        let mut cases = Vec::new();
        for (field, kind) in endpoint.fields {
            let mut values: Vec<(String, Value, Expect)> = vec![
                ("a number".into(), json!(42), Expect::Status(400)),
                ("a fraction".into(), json!(4.5), Expect::Status(400)),
                ("an array".into(), json!(["a"]), Expect::Status(400)),
                ("an object".into(), json!({"a": "b"}), Expect::Status(400)),
                ("null".into(), Value::Null, Expect::Any),
            ];
            match kind {
                Kind::Text => {
                    values.push(("a boolean".into(), json!(true), Expect::Status(400)));
                    values.push(("an empty string".into(), json!(""), Expect::Any));
                    values.push(("100 KB".into(), json!("n".repeat(100 * 1024)), Expect::Any));
                    for s in odd_strings() {
                        values.push((format!("odd {s:?}"), json!(s), Expect::Any));
                    }
                }
                Kind::Flag => {
                    values.push(("the string true".into(), json!("true"), Expect::Status(400)));
                    values.push(("one".into(), json!(1), Expect::Status(400)));
                }
            }
            for (what, value, expect) in values {
                let mut body = self.valid_body(endpoint);
                body[*field] = value;
                cases.push(Case {
                    label: format!("{field} = {what}"),
                    content_type: Some("application/json"),
                    body: Some(to_bytes(&body)),
                    headers: Vec::new(),
                    with_session: true,
                    expect,
                });
            }
        }
        cases
    }

    /// Header-level cases: huge, duplicated, non-UTF-8 cookies; garbage authorization; odd origins.
    pub(super) fn header_cases(&self, endpoint: &Endpoint) -> Vec<Case> {
        let post = endpoint.method == Method::POST;
        let body = to_bytes(&self.valid_body(endpoint));
        let token = random_id();
        let case =
            |label: &str, with_session: bool, headers: Vec<(&'static str, HeaderValue)>| Case {
                label: label.to_owned(),
                content_type: Some("application/json"),
                body: post.then(|| body.clone()),
                headers,
                with_session,
                expect: Expect::Any,
            };
        let cookie = |v: &[u8]| {
            vec![
                ("cookie", header(v)),
                ("origin", header(FRONTEND.as_bytes())),
            ]
        };
        let auth = |v: &[u8]| vec![("authorization", header(v))];
        let session = |value: &str| format!("{SESSION_COOKIE}={value}");
        let mut cases = vec![
            case(
                "a 16 KB junk cookie",
                true,
                vec![(
                    "cookie",
                    header(format!("junk={}", "j".repeat(16 * 1024)).as_bytes()),
                )],
            ),
            case(
                "a 16 KB session cookie",
                false,
                cookie(session(&"s".repeat(16 * 1024)).as_bytes()),
            ),
            case(
                "invalid UTF-8 bytes in the session cookie",
                false,
                cookie(&[session("").as_bytes(), b"\xff\xfe\xfd.abc%3D"].concat()),
            ),
            case(
                "percent-encoded invalid UTF-8 in the session cookie",
                false,
                cookie(session("%FF%FE.%C3%28%3D").as_bytes()),
            ),
            case(
                "a session cookie of 10,000 dots",
                false,
                cookie(session(&".".repeat(10_000)).as_bytes()),
            ),
            case(
                "an unsigned session cookie",
                false,
                cookie(session(&token).as_bytes()),
            ),
            case(
                "duplicate session cookies, garbage first",
                true,
                vec![("cookie", header(session("garbage").as_bytes()))],
            ),
            case(
                "cookies without values",
                false,
                cookie(b";;;; a; =; ==; better-auth.session_token"),
            ),
            case(
                "a quoted garbage session cookie",
                false,
                cookie(session("\"abc.def\"").as_bytes()),
            ),
            case("Basic authorization", false, auth(b"Basic Zm9vOmJhcg==")),
            case("a bare Bearer", false, auth(b"Bearer")),
            case("a Bearer of spaces", false, auth(b"Bearer      ")),
            case(
                "a bearer of 10,000 dots",
                false,
                auth(format!("Bearer {}", ".".repeat(10_000)).as_bytes()),
            ),
            case(
                "a bearer with invalid UTF-8 bytes",
                false,
                auth(b"Bearer \xff\xfe\xfd"),
            ),
            case(
                "a bearer with percent-encoded invalid UTF-8",
                false,
                auth(b"Bearer %FF%FE.%C3%28"),
            ),
            case("a bearer with spaces inside", false, auth(b"Bearer a b c")),
            case(
                "a 16 KB bearer",
                false,
                auth(format!("Bearer {}", "b".repeat(16 * 1024)).as_bytes()),
            ),
            case(
                "an unknown scheme",
                false,
                auth(b"Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS"),
            ),
            case(
                "a 32-character bearer that is no session",
                false,
                auth(format!("Bearer {}", random_id()).as_bytes()),
            ),
            case(
                "a 32-character bearer of symbols",
                false,
                auth(b"Bearer !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"),
            ),
            case(
                "an origin that is no URL",
                true,
                vec![("origin", header(b"http://[::1"))],
            ),
            case(
                "an origin with invalid UTF-8",
                true,
                vec![("origin", header(b"http://\xff\xfe.example"))],
            ),
            case(
                "a referer that is no URL",
                true,
                vec![("referer", header(b"::::"))],
            ),
            case(
                "garbage x-forwarded-for",
                true,
                vec![("x-forwarded-for", header(b"999.1.1.1, ::zz, <script>"))],
            ),
            case(
                "an IPv6 x-forwarded-for",
                true,
                vec![("x-forwarded-for", header(b"2001:db8::1"))],
            ),
            case(
                "a 16 KB user agent",
                true,
                vec![("user-agent", header("u".repeat(16 * 1024).as_bytes()))],
            ),
            case(
                "a user agent with invalid UTF-8",
                true,
                vec![("user-agent", header(b"agent \xff\xfe"))],
            ),
            case(
                "fetch metadata saying cross-site navigation",
                true,
                vec![
                    ("sec-fetch-site", header(b"cross-site")),
                    ("sec-fetch-mode", header(b"navigate")),
                ],
            ),
        ];
        if post {
            // With a session cookie, these must be refused by the origin check.
            for c in cases.iter_mut() {
                if c.label.starts_with("an origin") {
                    c.expect = Expect::Status(403);
                }
            }
        }
        cases
    }
}
