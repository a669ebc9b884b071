//! `GET /openapi.json`: an OpenAPI 3.1 document generated from the handlers. The routes it lists
//! are the routes the router serves (each is registered through the attribute that documents it),
//! and what comes from configuration (profile fields, password limits, the cookie name) is in it.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const INTERNAL: &str = "internal-secret-0123456789-abcdefghijklmnop";

/// Methods an OpenAPI path item can hold that the server could route.
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let r = app
        .send(app.raw().get(format!("{}/openapi.json", app.address)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    r.json()
}

/// Every (METHOD, path) the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// A component schema by name.
fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    s
}

fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether an answer is the router's own 404 (no such route, or no such method on it).
fn is_unrouted(r: &TestResponse) -> bool {
    r.status == StatusCode::NOT_FOUND
        && serde_json::from_slice::<Value>(&r.body).ok()
            == Some(json!({"message": "Not Found", "code": "NOT_FOUND"}))
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_parses() {
    let app = spawn_app().await;

    let doc = document(&app).await;

    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(doc["info"]["title"], json!("hallpass"));
    let parsed = serde_json::from_value::<utoipa::openapi::OpenApi>(doc.clone());
    assert!(
        parsed.is_ok(),
        "not an OpenAPI document: {:?}",
        parsed.err()
    );
    for path in [
        "/api/auth/sign-up/email",
        "/api/auth/get-session",
        "/auth/register",
        "/auth/me",
        "/internal/user",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_no_other_method_on_its_path() {
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_INTERNAL_SECRET".into(), INTERNAL.into());
    })
    .await;
    let doc = document(&app).await;
    let documented = operations(&doc);
    assert!(documented.len() >= 20, "{documented:?}");

    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in METHODS {
            let method = method.to_uppercase();
            let r = app
                .send(app.raw().request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{}{path}", app.address),
                ))
                .await;
            let is_documented = documented.contains(&(method.clone(), path.clone()));
            assert_eq!(
                !is_unrouted(&r),
                is_documented,
                "{method} {path}: answered {} {}, documented: {is_documented}",
                r.status,
                r.text()
            );
        }
    }
}

#[tokio::test]
async fn every_route_is_registered_through_its_documentation() {
    // The router is built only from `routes!(handler)`, which takes each path and method from the
    // handler's `#[utoipa::path]`: a plain axum `.route(...)` would serve an undocumented route.
    // The built-in HTML pages (src/pages) are deliberately outside the JSON API's document.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let pages = src.join("pages");
    let mut stack = vec![src];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != pages {
                    stack.push(path);
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if [".route(", ".route_service(", ".nest_service("]
                    .iter()
                    .any(|call| code.contains(call))
                {
                    offenders.push(format!("{}:{}: {code}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "undocumented routes: {offenders:#?}");
}

#[tokio::test]
async fn configured_profile_fields_show_in_the_user_and_the_bodies_that_set_them() {
    let app = spawn_app_with(|file, _| {
        file.push_str(concat!(
            "[[profile.fields]]\nkey = \"favourite_language\"\ntype = \"string\"\nmax_length = 20\n",
            "[[profile.fields]]\nkey = \"age\"\ntype = \"number\"\nrequired = true\n",
            "[[profile.fields]]\nkey = \"plan\"\ntype = \"enum\"\nvalues = [\"free\", \"pro\"]\n",
            "input = false\ndefault = \"free\"\n",
            "[[profile.fields]]\nkey = \"newsletter\"\ntype = \"boolean\"\n",
        ))
    })
    .await;

    let doc = document(&app).await;

    let user = schema(&doc, "User");
    let props = &user["properties"];
    assert_eq!(
        props["favourite_language"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(props["favourite_language"]["maxLength"], json!(20));
    assert_eq!(props["age"]["type"], json!("integer"));
    assert_eq!(props["plan"]["type"], json!("string"));
    assert_eq!(props["plan"]["enum"], json!(["free", "pro"]));
    assert_eq!(props["newsletter"]["type"], json!(["boolean", "null"]));
    assert!(props.get("software_background").is_none(), "{user}");
    for key in ["favourite_language", "age", "plan", "newsletter", "id"] {
        assert!(required(user).contains(&key), "User must require {key}");
    }

    for body in ["SignUpBody", "RegisterBody"] {
        let s = schema(&doc, body);
        assert_eq!(s["properties"]["age"]["type"], json!("integer"), "{body}");
        assert!(required(s).contains(&"age"), "{body}: {s}");
        assert!(!required(s).contains(&"newsletter"), "{body}");
        assert!(
            s["properties"].get("plan").is_none(),
            "{body} must not offer a server-owned field"
        );
    }
    for body in ["UpdateUserBody", "UpdateProfileBody"] {
        let s = schema(&doc, body);
        assert!(required(s).is_empty(), "{body}: {s}");
        assert_eq!(
            s["properties"]["age"]["type"],
            json!("integer"),
            "a required field cannot be cleared"
        );
        assert_eq!(
            s["properties"]["newsletter"]["type"],
            json!(["boolean", "null"]),
            "null clears an optional field"
        );
        assert!(s["properties"].get("plan").is_none(), "{body}");
    }
}

#[tokio::test]
async fn password_limits_follow_the_configuration() {
    let app = spawn_app().await;

    let doc = document(&app).await;

    let password = &schema(&doc, "SignUpBody")["properties"]["password"];
    assert_eq!(password["minLength"], json!(8));
    assert_eq!(password["maxLength"], json!(128));
    let presented = &schema(&doc, "SignInBody")["properties"]["password"];
    assert!(presented.get("minLength").is_none(), "{presented}");
    assert_eq!(presented["maxLength"], json!(128));
}

#[tokio::test]
async fn errors_have_the_error_schema_and_security_names_resolve() {
    let app = spawn_app().await;

    let doc = document(&app).await;

    assert_eq!(
        required(schema(&doc, "ErrorBody")),
        vec!["message"],
        "code is optional"
    );
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert_eq!(schemes["bearer"]["scheme"], json!("bearer"));
    assert_eq!(schemes["session_cookie"]["in"], json!("cookie"));
    assert_eq!(schemes["session_cookie"]["name"], json!(SESSION_COOKIE));
    assert_eq!(schemes["internal_secret"]["in"], json!("header"));
    assert_eq!(
        schemes["internal_secret"]["name"],
        json!("X-Internal-Secret")
    );

    let mut operation_ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        assert!(
            operation_ids.insert(op["operationId"].as_str().unwrap().to_owned()),
            "{method} {path}: duplicate operationId"
        );
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    json!("#/components/schemas/ErrorBody"),
                    "{method} {path} {status}"
                );
            }
        }
        for requirement in op["security"].as_array().into_iter().flatten() {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{method} {path}: {name}");
            }
        }
    }
    // Every reference points at a schema the document defines.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        schema(&doc, name);
    }
}

#[tokio::test]
async fn with_a_listener_of_its_own_the_bridge_leaves_the_public_document() {
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_INTERNAL_SECRET".into(), INTERNAL.into());
        env.insert("HALLPASS_INTERNAL_LISTEN".into(), "127.0.0.1:1".into());
    })
    .await;

    let doc = document(&app).await;

    assert!(doc["paths"].get("/internal/user").is_none());
    assert!(doc["paths"]["/auth/me"].is_object());
}
