//! The one API error: Better Auth's `{"message","code"}` body with the right status. Domain errors
//! map here; a 500 never carries internals (they go to the log).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallpass_core::DomainError;
use serde_json::json;

/// The body of every error answer, for the OpenAPI document: `{"message", "code"?}` (reference, 1).
/// [`ApiError`] writes it; some Better Auth errors have no code.
#[derive(utoipa::ToSchema)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: String,
    /// Better Auth error code (`VALIDATION_ERROR`, `UNAUTHORIZED`, …), absent on a few errors.
    #[schema(required = false)]
    pub code: String,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Better Auth error code; some of its errors have none.
    pub code: Option<&'static str>,
    /// Human-readable message.
    pub message: String,
    /// Seconds in `X-Retry-After` (and `Retry-After`) of a 429.
    pub retry_after: u64,
}

impl ApiError {
    /// An error with a code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: Some(code),
            message: message.into(),
            retry_after: 1,
        }
    }

    /// Better Auth's rate-limit refusal: 429 `{"message"}` with no code, and `X-Retry-After`.
    pub fn too_many_requests(retry_after: u64) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: None,
            message: "Too many requests. Please try again later.".into(),
            retry_after: retry_after.max(1),
        }
    }

    /// 400 VALIDATION_ERROR.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// 401 UNAUTHORIZED.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized")
    }

    /// 404 NOT_FOUND.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found")
    }

    /// 403 with a code (origin and callback checks).
    pub fn forbidden(code: &'static str, message: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 500, logging what happened.
    pub fn internal(detail: &str) -> ApiError {
        tracing::error!(detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "Internal Server Error",
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        use DomainError as D;
        use StatusCode as S;
        let msg = e.to_string();
        match e {
            D::InvalidField { .. } => ApiError::validation(msg),
            D::MissingField(_) => ApiError::new(S::BAD_REQUEST, "MISSING_FIELD", msg),
            D::FieldNotAllowed(_) => ApiError::new(S::BAD_REQUEST, "FIELD_NOT_ALLOWED", msg),
            D::InvalidEmail => ApiError::new(S::BAD_REQUEST, "INVALID_EMAIL", msg),
            D::PasswordTooShort => ApiError::new(S::BAD_REQUEST, "PASSWORD_TOO_SHORT", msg),
            D::PasswordTooLong => ApiError::new(S::BAD_REQUEST, "PASSWORD_TOO_LONG", msg),
            D::UserAlreadyExists => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                msg,
            ),
            D::InvalidEmailOrPassword => {
                ApiError::new(S::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD", msg)
            }
            D::InvalidPassword => ApiError::new(S::BAD_REQUEST, "INVALID_PASSWORD", msg),
            D::CredentialAccountNotFound => {
                ApiError::new(S::BAD_REQUEST, "CREDENTIAL_ACCOUNT_NOT_FOUND", msg)
            }
            D::EmailCannotBeUpdated => {
                ApiError::new(S::BAD_REQUEST, "EMAIL_CAN_NOT_BE_UPDATED", msg)
            }
            D::NoFieldsToUpdate => ApiError {
                status: S::BAD_REQUEST,
                code: None,
                message: msg,
                retry_after: 1,
            },
            D::Unauthorized => ApiError::unauthorized(),
            D::SessionNotFresh => ApiError::new(S::FORBIDDEN, "SESSION_NOT_FRESH", msg),
            D::UserNotFound => ApiError::new(S::BAD_REQUEST, "USER_NOT_FOUND", msg),
            D::InvalidToken => ApiError::new(S::BAD_REQUEST, "INVALID_TOKEN", msg),
            D::InvalidUser => ApiError::new(S::UNAUTHORIZED, "INVALID_USER", msg),
            D::TokenExpired => ApiError::new(S::UNAUTHORIZED, "TOKEN_EXPIRED", msg),
            D::EmailNotVerified => ApiError::new(S::FORBIDDEN, "EMAIL_NOT_VERIFIED", msg),
            D::EmailAlreadyVerified => ApiError::new(S::BAD_REQUEST, "EMAIL_ALREADY_VERIFIED", msg),
            D::EmailMismatch => ApiError::new(S::BAD_REQUEST, "EMAIL_MISMATCH", msg),
            D::EmailIsTheSame => ApiError {
                status: S::BAD_REQUEST,
                code: None,
                message: msg,
                retry_after: 1,
            },
            D::SessionExpired => ApiError::new(S::BAD_REQUEST, "SESSION_EXPIRED", msg),
            D::Busy => ApiError::new(S::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", msg),
            D::Internal(detail) => ApiError::internal(&detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.code {
            Some(code) => json!({ "message": self.message, "code": code }),
            None => json!({ "message": self.message }),
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            let secs = HeaderValue::from(self.retry_after);
            res.headers_mut().insert("x-retry-after", secs.clone());
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        res
    }
}

/// Handlers' result type.
pub type ApiResult<T = Response> = Result<T, ApiError>;
