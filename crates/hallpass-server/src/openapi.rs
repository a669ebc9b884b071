//! The OpenAPI 3.1 document served at `GET /openapi.json`. The paths come from the handlers'
//! `#[utoipa::path]` attributes, collected by the same `routes!` calls that route them, and the
//! schemas from the types beside each handler; nothing here lists the routes again. What comes
//! from configuration is filled in at start-up: the profile fields (on the user and on the bodies
//! that set them), the password length limits and the session cookie's name.

use crate::routes::models::User;
use crate::routes::rest::{LoginBody, RegisterBody, UpdateProfileBody};
use crate::routes::sign_in::SignInBody;
use crate::routes::sign_up::SignUpBody;
use crate::routes::users::{ChangePasswordBody, UpdateUserBody};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hallpass_core::password::LengthPolicy;
use hallpass_core::profile::{FieldDef, FieldType, ProfileSchema};
use serde_json::Value;
use std::sync::Arc;
use utoipa::openapi::schema::{
    KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, InfoBuilder, LicenseBuilder, OpenApi, RefOr};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Operation tags, one per surface.
pub mod tag {
    /// The Better Auth compatible API under `/api/auth`.
    pub const BETTER_AUTH: &str = "Better Auth";
    /// Plain REST under `/auth`.
    pub const REST: &str = "REST";
    /// The service-to-service bridge under `/internal`.
    pub const INTERNAL: &str = "Internal";
    /// Liveness, readiness and metrics.
    pub const HEALTH: &str = "Health";
    /// This document.
    pub const OPENAPI: &str = "OpenAPI";
}

/// Security scheme names, as the handlers' `security(...)` attributes spell them.
pub mod scheme {
    /// `Authorization: Bearer`.
    pub const BEARER: &str = "bearer";
    /// The signed session cookie.
    pub const SESSION_COOKIE: &str = "session_cookie";
    /// `X-Internal-Secret`.
    pub const INTERNAL_SECRET: &str = "internal_secret";
}

/// The longest string a profile field takes when its `max_length` is not configured (the domain's
/// default, `hallpass_core::profile`).
const DEFAULT_PROFILE_MAX_LENGTH: usize = 255;

/// An OpenAPI document (schema only: the answer is the document itself).
#[derive(ToSchema)]
pub struct OpenApiDocument {
    /// `3.1.0`.
    pub openapi: String,
    /// Title and version.
    #[schema(value_type = Object)]
    pub info: Value,
    /// Every operation this listener serves.
    #[schema(value_type = Object)]
    pub paths: Value,
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = tag::OPENAPI,
    responses((status = 200, description = "The OpenAPI 3.1 document of this listener", body = OpenApiDocument)),
)]
async fn openapi_json(State(doc): State<Arc<OpenApi>>) -> Response {
    Json(doc.as_ref()).into_response()
}

/// Splits documented routes into the router and its document, completes the document with the
/// configuration in `state`, and adds `GET /openapi.json` serving it.
pub fn serve(routes: OpenApiRouter<AppState>, state: &AppState) -> Router<AppState> {
    let (spec_route, spec_paths) = OpenApiRouter::<Arc<OpenApi>>::new()
        .routes(routes!(openapi_json))
        .split_for_parts();
    let (router, mut doc) = routes.split_for_parts();
    doc.merge(spec_paths);
    let configured = Configured {
        profile: state.auth.schema(),
        passwords: state.config.password_lengths,
        session_cookie: &state.cookies.session,
    };
    let doc = complete(doc, &configured);
    router.merge(spec_route.with_state(Arc::new(doc)))
}

/// What the document takes from configuration.
pub struct Configured<'a> {
    /// The profile fields.
    pub profile: &'a ProfileSchema,
    /// Password length limits.
    pub passwords: LengthPolicy,
    /// The session cookie's name (`__Secure-` prefixed on https).
    pub session_cookie: &'a str,
}

/// The document as served: title and version, the security schemes, the password limits and the
/// profile fields.
pub fn complete(mut doc: OpenApi, configured: &Configured<'_>) -> OpenApi {
    doc.info = InfoBuilder::new()
        .title("hallpass")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A Better Auth 1.7.24 compatible auth server: the Better Auth API under /api/auth, \
             plain REST under /auth, and the service-to-service bridge under /internal. Errors \
             answer {\"message\", \"code\"?}.",
        ))
        .license(Some(LicenseBuilder::new().name("MIT").build()))
        .build();
    let components = doc.components.get_or_insert_with(Components::new);
    components.security_schemes.insert(
        scheme::BEARER.into(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A session token (signed, as set-auth-token and the cookie carry it, or the \
                     raw 32 characters); under /auth and /internal also a hallpass JWT",
                ))
                .build(),
        ),
    );
    components.security_schemes.insert(
        scheme::SESSION_COOKIE.into(),
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            configured.session_cookie,
            "The signed session cookie; writes that carry cookies need a trusted Origin",
        ))),
    );
    components.security_schemes.insert(
        scheme::INTERNAL_SECRET.into(),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Internal-Secret",
            "HALLPASS_INTERNAL_SECRET; wrong ones are counted per address and refused with 429",
        ))),
    );
    add_password_limits(components, configured.passwords);
    add_profile_fields(components, configured.profile);
    unwrap_optional_bodies(&mut doc);
    doc
}

/// An optional request body comes out of utoipa as `oneOf: [null, T]`, but these routes take no
/// body or a `T`, never a JSON `null` (refused with 400): describe it as an optional `T`.
fn unwrap_optional_bodies(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let Some(body) = &mut operation.request_body else {
                continue;
            };
            for content in body.content.values_mut() {
                if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
                    let mut not_null = one_of.items.iter().filter(|s| !is_null(s));
                    if let (Some(only), None) = (not_null.next(), not_null.next()) {
                        content.schema = Some(only.clone());
                    }
                }
            }
        }
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::new(Type::Null))
}

/// Puts the configured password lengths on the password properties: new passwords have both
/// limits, presented ones only the maximum (reference, 2.3). The server counts UTF-16 code units,
/// as JavaScript does; JSON Schema counts characters, so the two differ only beyond the BMP.
fn add_password_limits(components: &mut Components, lengths: LengthPolicy) {
    let new = Some(lengths.min.max(1));
    let targets = [
        (SignUpBody::name(), "password", new),
        (RegisterBody::name(), "password", new),
        (ChangePasswordBody::name(), "newPassword", new),
        (SignInBody::name(), "password", None),
        (LoginBody::name(), "password", None),
        (ChangePasswordBody::name(), "currentPassword", None),
    ];
    for (schema, property, min) in targets {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema.as_ref())
        else {
            tracing::warn!(%schema, "no such object schema to add password limits to");
            continue;
        };
        if let Some(RefOr::T(Schema::Object(p))) = object.properties.get_mut(property) {
            p.min_length = min;
            p.max_length = Some(lengths.max);
        }
    }
}

/// How a schema uses the profile fields.
#[derive(Clone, Copy)]
enum Use {
    /// The user as answered: every field.
    Output,
    /// Creating a user: fields clients may set, required ones required.
    Create,
    /// A partial update: fields clients may set, none required.
    Update,
}

/// Adds each configured profile field to the user and to the bodies that set them.
fn add_profile_fields(components: &mut Components, profile: &ProfileSchema) {
    let targets = [
        (User::name(), Use::Output),
        (SignUpBody::name(), Use::Create),
        (RegisterBody::name(), Use::Create),
        (UpdateUserBody::name(), Use::Update),
        (UpdateProfileBody::name(), Use::Update),
    ];
    for (name, usage) in targets {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name.as_ref())
        else {
            tracing::warn!(schema = %name, "no such object schema to add profile fields to");
            continue;
        };
        for field in profile.fields() {
            add_field(object, field, usage);
        }
    }
}

fn add_field(object: &mut Object, f: &FieldDef, usage: Use) {
    let has_default = f.default.is_some();
    // (present, required, nullable), as `ProfileSchema::for_create` and `for_update` decide.
    let (present, required, nullable) = match usage {
        // Every field is answered; null unless a value is guaranteed (a required field, or a
        // server-owned one with a default).
        Use::Output => {
            let guaranteed = f.required || (has_default && !f.input);
            (true, true, !guaranteed)
        }
        // null counts as absent: refused only when the field is required and has no default.
        Use::Create => {
            let required = f.required && !has_default;
            (f.input, required, !required)
        }
        // Only what is given changes; null clears an optional field.
        Use::Update => (f.input, false, !f.required),
    };
    if !present {
        return;
    }
    let ty = match f.kind {
        FieldType::String | FieldType::Enum => Type::String,
        FieldType::Number => Type::Integer,
        FieldType::Boolean => Type::Boolean,
    };
    let mut b = ObjectBuilder::new().description(Some(
        f.label.clone().unwrap_or_else(|| f.key.clone()) + " (profile field)",
    ));
    b = if nullable {
        b.schema_type([ty, Type::Null].into_iter().collect::<SchemaType>())
    } else {
        b.schema_type(ty)
    };
    match f.kind {
        FieldType::Enum => {
            let mut values: Vec<Value> = f.values.iter().cloned().map(Value::String).collect();
            if nullable {
                values.push(Value::Null);
            }
            b = b.enum_values(Some(values));
        }
        FieldType::String => {
            b = b.max_length(Some(f.max_length.unwrap_or(DEFAULT_PROFILE_MAX_LENGTH)));
        }
        FieldType::Number => {
            b = b.format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)));
        }
        FieldType::Boolean => {}
    }
    if matches!(usage, Use::Create) {
        b = b.default(f.default.as_ref().map(|d| d.to_json()));
    }
    object.properties.insert(f.key.clone(), b.build().into());
    if required && !object.required.contains(&f.key) {
        object.required.push(f.key.clone());
    }
}
