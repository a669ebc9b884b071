//! JWTs for other services: `GET /token` and `GET /jwks` (reference, 9.2).

use crate::http::error::{ApiResult, ErrorBody};
use crate::routes::json_with;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(jwks))
}

/// A JWT for other services.
#[derive(ToSchema)]
pub struct TokenResponse {
    /// EdDSA-signed; claims: the user, `sub`, `sid` (the session id), `iat`, `exp`, `iss`, `aud`.
    pub token: String,
}

/// The public keys that verify hallpass JWTs (RFC 7517).
#[derive(ToSchema)]
pub struct Jwks {
    /// Current and recently retired keys.
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key.
#[derive(ToSchema)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Key id (a JWT header's `kid`).
    pub kid: String,
    /// `EdDSA`.
    pub alg: String,
}

/// A JWT about the signed-in user.
#[utoipa::path(
    get,
    path = "/api/auth/token",
    tag = crate::openapi::tag::BETTER_AUTH,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "A fresh (or a few seconds old) JWT", body = TokenResponse),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
    ),
)]
async fn token(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let current = state.current(&headers).await?;
    let jwt = state.auth.issue_jwt(&current).await?;
    Ok(json_with(&json!({"token": jwt}), HeaderMap::new()))
}

/// The JWKS that verifies hallpass JWTs.
#[utoipa::path(
    get,
    path = "/api/auth/jwks",
    tag = crate::openapi::tag::BETTER_AUTH,
    responses(
        (status = 200, description = "The key set", body = Jwks,
            headers(("cache-control" = String, description = "`public, max-age=60`"))),
    ),
)]
async fn jwks(State(state): State<AppState>) -> ApiResult<Response> {
    let keys = state.auth.jwks().await?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(json_with(&keys, out))
}
