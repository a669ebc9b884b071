//! Reading rows into domain types, tolerant of the column types other tools may have chosen for
//! Better Auth's columns, and mapping database errors to store errors.

use chrono::{NaiveDateTime, Utc};
use hallpass_core::clock::{from_millis, parse_iso, truncate_to_millis, Timestamp};
use hallpass_core::model::{Session, User};
use hallpass_core::profile::ProfileSchema;
use hallpass_core::store::{StoreError, StoreResult};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{Column, Row, TypeInfo};

/// The core columns of `user`, in the order [`user_from`] reads them; profile columns follow.
pub const USER_CORE_COLS: [&str; 7] = [
    "id",
    "name",
    "email",
    "emailVerified",
    "image",
    "createdAt",
    "updatedAt",
];

/// The columns of `session`, in the order [`session_from`] reads them.
pub const SESSION_COLS: &str =
    "\"id\", \"token\", \"userId\", \"expiresAt\", \"createdAt\", \"updatedAt\", \"ipAddress\", \"userAgent\"";

/// A database error as a store error: unique violations become `Conflict` on the column the
/// constraint guards (`user_email_key`, `session_token_key`, else a primary key), the rest
/// `Backend`.
pub fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            let constraint = db.constraint().unwrap_or_default();
            let field = if constraint.contains("email") {
                "email"
            } else if constraint.contains("token") {
                "token"
            } else {
                "id"
            };
            return StoreError::Conflict(field.into());
        }
    }
    StoreError::Backend(e.to_string())
}

fn type_name(row: &PgRow, i: usize) -> &str {
    row.columns().get(i).map_or("", |c| c.type_info().name())
}

/// A required date.
pub fn date_at(row: &PgRow, i: usize) -> StoreResult<Timestamp> {
    opt_date_at(row, i)?.ok_or_else(|| StoreError::Backend(format!("column {i}: missing date")))
}

/// A date from `timestamptz` (Better Auth's layout), or from `timestamp` (taken as UTC), ISO text
/// or epoch milliseconds, as other tools lay it out.
pub fn opt_date_at(row: &PgRow, i: usize) -> StoreResult<Option<Timestamp>> {
    let date = match type_name(row, i) {
        "TIMESTAMP" => row
            .try_get::<Option<NaiveDateTime>, _>(i)
            .map_err(db_error)?
            .map(|d| d.and_utc()),
        "TEXT" | "VARCHAR" => match row.try_get::<Option<String>, _>(i).map_err(db_error)? {
            None => None,
            Some(s) => Some(parse_iso(&s).ok_or_else(|| {
                StoreError::Backend(format!("column {i}: unreadable date {s:?}"))
            })?),
        },
        "INT8" => row
            .try_get::<Option<i64>, _>(i)
            .map_err(db_error)?
            .and_then(from_millis),
        _ => row
            .try_get::<Option<chrono::DateTime<Utc>>, _>(i)
            .map_err(db_error)?,
    };
    Ok(date.map(truncate_to_millis))
}

fn bool_at(row: &PgRow, i: usize) -> StoreResult<bool> {
    match type_name(row, i) {
        "INT2" => Ok(row.try_get::<i16, _>(i).map_err(db_error)? != 0),
        "INT4" => Ok(row.try_get::<i32, _>(i).map_err(db_error)? != 0),
        "INT8" => Ok(row.try_get::<i64, _>(i).map_err(db_error)? != 0),
        _ => row.try_get(i).map_err(db_error),
    }
}

/// A profile value selected as `to_jsonb(column)::text`: the stored value as JSON, whatever the
/// column's type; SQL NULL is `Null`.
fn profile_at(row: &PgRow, i: usize) -> StoreResult<Value> {
    let json: Option<String> = row.try_get(i).map_err(db_error)?;
    match json {
        None => Ok(Value::Null),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Backend(format!("column {i}: unreadable value: {e}"))),
    }
}

/// A user from the columns starting at `at`, as [`USER_CORE_COLS`] then the profile fields.
pub fn user_from(row: &PgRow, at: usize, schema: &ProfileSchema) -> StoreResult<User> {
    let mut profile = Map::new();
    for (n, f) in schema.fields().iter().enumerate() {
        profile.insert(f.key.clone(), profile_at(row, at + 7 + n)?);
    }
    Ok(User {
        id: row.try_get(at).map_err(db_error)?,
        name: row.try_get(at + 1).map_err(db_error)?,
        email: row.try_get(at + 2).map_err(db_error)?,
        email_verified: bool_at(row, at + 3)?,
        image: row.try_get(at + 4).map_err(db_error)?,
        created_at: date_at(row, at + 5)?,
        updated_at: date_at(row, at + 6)?,
        profile,
    })
}

/// A session from [`SESSION_COLS`]; a NULL IP or agent reads as `""`, as Better Auth writes them.
pub fn session_from(row: &PgRow) -> StoreResult<Session> {
    Ok(Session {
        id: row.try_get(0).map_err(db_error)?,
        token: row.try_get(1).map_err(db_error)?,
        user_id: row.try_get(2).map_err(db_error)?,
        expires_at: date_at(row, 3)?,
        created_at: date_at(row, 4)?,
        updated_at: date_at(row, 5)?,
        ip_address: row
            .try_get::<Option<String>, _>(6)
            .map_err(db_error)?
            .unwrap_or_default(),
        user_agent: row
            .try_get::<Option<String>, _>(7)
            .map_err(db_error)?
            .unwrap_or_default(),
    })
}
