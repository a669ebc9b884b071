//! Request bodies: size limit, content type, JSON or form parsing, and field checks whose messages
//! match Better Auth's zod errors (`[body.email] Invalid input: expected string, received undefined`).

use super::error::{ApiError, ApiResult};
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::{Map, Value};

/// Largest accepted body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request body: `None` when empty (zod's `undefined`).
pub struct JsonBody(pub Option<Value>);

/// Like [`JsonBody`], also accepting `application/x-www-form-urlencoded` (sign-in and sign-up).
pub struct FormOrJsonBody(pub Option<Value>);

async fn read(req: Request, allow_form: bool) -> ApiResult<Option<Value>> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let content_type = media_type(req.headers());
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let allowed = if allow_form {
        "application/json, application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    match content_type.as_deref() {
        Some("application/json") => serde_json::from_slice(&bytes).map(Some).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "Invalid JSON in request body",
            )
        }),
        Some("application/x-www-form-urlencoded") if allow_form => {
            let map: Map<String, Value> = url::form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Ok(Some(Value::Object(map)))
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!(
                "Content-Type {:?} is not allowed. Allowed types: {allowed}",
                other
            ),
        )),
        None => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("Content-Type is required. Allowed types: {allowed}"),
        )),
    }
}

/// The media type without parameters, lower-cased.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = raw.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;
    async fn from_request(req: Request<Body>, _: &S) -> ApiResult<Self> {
        read(req, false).await.map(JsonBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormOrJsonBody {
    type Rejection = ApiError;
    async fn from_request(req: Request<Body>, _: &S) -> ApiResult<Self> {
        read(req, true).await.map(FormOrJsonBody)
    }
}

/// zod's name for the type of a JSON value.
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

/// Checks fields of a body object, collecting every issue, and answers them all at once.
pub struct Fields {
    obj: Map<String, Value>,
    issues: Vec<String>,
}

impl Fields {
    /// The body must be an object (`[body] Invalid input: expected object, received …`).
    pub fn object(body: Option<Value>) -> ApiResult<Fields> {
        match body {
            Some(Value::Object(obj)) => Ok(Fields {
                obj,
                issues: Vec::new(),
            }),
            other => Err(ApiError::validation(format!(
                "[body] Invalid input: expected object, received {}",
                type_name(other.as_ref())
            ))),
        }
    }

    /// The body must be a record (zod's `z.record`, for bodies of free keys such as update-user:
    /// `[body] Invalid input: expected record, received …`).
    pub fn record(body: Option<Value>) -> ApiResult<Fields> {
        match body {
            Some(Value::Object(obj)) => Ok(Fields {
                obj,
                issues: Vec::new(),
            }),
            other => Err(ApiError::validation(format!(
                "[body] Invalid input: expected record, received {}",
                type_name(other.as_ref())
            ))),
        }
    }

    /// Both an object and a record (sign-up's schema: known fields plus free profile keys); a
    /// body that is neither gets both issues, as Better Auth answers.
    pub fn object_and_record(body: Option<Value>) -> ApiResult<Fields> {
        match body {
            Some(Value::Object(obj)) => Ok(Fields {
                obj,
                issues: Vec::new(),
            }),
            other => {
                let got = type_name(other.as_ref());
                Err(ApiError::validation(format!(
                    "[body] Invalid input: expected object, received {got}; [body] Invalid input: expected record, received {got}"
                )))
            }
        }
    }

    /// An empty object when there is no body (endpoints whose body is optional).
    pub fn optional_object(body: Option<Value>) -> ApiResult<Fields> {
        Fields::object(Some(body.unwrap_or_else(|| Value::Object(Map::new()))))
    }

    fn issue(&mut self, key: &str, expected: &str) {
        let got = type_name(self.obj.get(key));
        self.issues.push(format!(
            "[body.{key}] Invalid input: expected {expected}, received {got}"
        ));
    }

    /// A required string.
    pub fn string(&mut self, key: &str) -> String {
        match self.obj.get(key) {
            Some(Value::String(s)) => s.clone(),
            _ => {
                self.issue(key, "string");
                String::new()
            }
        }
    }

    /// A required, non-empty string.
    pub fn non_empty(&mut self, key: &str) -> String {
        let s = self.string(key);
        if matches!(self.obj.get(key), Some(Value::String(v)) if v.is_empty()) {
            self.issues.push(format!(
                "[body.{key}] Too small: expected string to have >=1 characters"
            ));
        }
        s
    }

    /// An optional string (absent is fine; null is not, as with zod's `.optional()`).
    pub fn opt_string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.issue(key, "string");
                None
            }
        }
    }

    /// A required email address (zod's `z.email()`: `[body.<key>] Invalid email address`).
    pub fn email(&mut self, key: &str) -> String {
        let s = self.string(key);
        let is_string = matches!(self.obj.get(key), Some(Value::String(_)));
        if is_string && hallpass_core::email::Email::parse(&s).is_none() {
            self.issues
                .push(format!("[body.{key}] Invalid email address"));
        }
        s
    }

    /// An optional boolean.
    pub fn opt_bool(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.issue(key, "boolean");
                None
            }
        }
    }

    /// Adds an issue of another kind.
    pub fn push(&mut self, issue: String) {
        self.issues.push(issue);
    }

    /// The object, or every issue found joined with `; ` (400 VALIDATION_ERROR).
    pub fn finish(self) -> ApiResult<Map<String, Value>> {
        if self.issues.is_empty() {
            Ok(self.obj)
        } else {
            Err(ApiError::validation(self.issues.join("; ")))
        }
    }
}
