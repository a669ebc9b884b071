//! The wire models several routes answer with, as OpenAPI schemas (reference, 2.1). Schema only:
//! the handlers build these bodies with the domain's `to_json`, and the document describes them.
//! The configured profile fields are added to [`User`] when the document is built
//! (`crate::openapi`), since they come from configuration, not code.

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

/// The email rule of zod's `z.email()`, which hallpass applies as Better Auth does
/// (`hallpass_core::email`), as an ECMA-262 pattern.
pub const EMAIL_PATTERN: &str = r"^([A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+\-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$";

/// The schema of an email address in a request (`#[schema(schema_with = email_address)]`).
pub fn email_address() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(EMAIL_PATTERN))
        .max_length(Some(254))
        .description(Some(
            "An email address, as zod's z.email() accepts it (any case)",
        ))
        .build()
}

/// A user as the API returns it: Better Auth's core fields and `id`, then one property per
/// configured profile field.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct User {
    /// 32-character id.
    pub id: String,
    /// Display name (may be empty).
    pub name: String,
    /// Lower-cased email address.
    pub email: String,
    /// Whether the address was verified.
    pub email_verified: bool,
    /// Picture URL, or null.
    #[schema(required = true)]
    pub image: Option<String>,
    /// ISO-8601 UTC with milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// ISO-8601 UTC with milliseconds.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A session as the API returns it; it carries the raw token, as Better Auth's does.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Session {
    /// 32-character id (a JWT's `sid`).
    pub id: String,
    /// The 32-character session token (bearer secret).
    pub token: String,
    /// The owner's id.
    pub user_id: String,
    /// When the session stops being valid.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// When the session was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the session was last extended.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Client IP, or `""` when unknown.
    pub ip_address: String,
    /// Client user agent, or `""`.
    pub user_agent: String,
}

/// A session with its user, as get-session answers.
#[derive(ToSchema)]
pub struct SessionAndUser {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
}

/// `{"status": true}`: the change was made.
#[derive(ToSchema)]
pub struct StatusBody {
    /// Always true.
    pub status: bool,
}

/// `{"success": true}`: the session, if any, has ended.
#[derive(ToSchema)]
pub struct SuccessBody {
    /// Always true.
    pub success: bool,
}
