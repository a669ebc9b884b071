//! Better Auth's schema, exactly as its Kysely migrations create it for each database (reference,
//! 6.1 and 6.2), written once: the dialect supplies the date and boolean types and PostgreSQL's
//! `default CURRENT_TIMESTAMP`s. Each configured profile field is a column of `user`. hallpass only
//! ever adds what is missing.

use crate::dialect::{ident, Catalog, Dialect};
use hallpass_core::profile::ProfileSchema;

/// A table: its name and its `create table` statement.
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// The statement that creates it.
    pub create: String,
}

/// The five tables, in creation order (user before the tables that reference it).
pub fn tables(d: Dialect, schema: &ProfileSchema) -> Vec<Table> {
    let (date, boolean, now) = (d.date_type(), d.bool_type(), d.now_default());
    let profile: String = schema
        .fields()
        .iter()
        .map(|f| format!(", {} {}", ident(&f.key), d.field_type(&f.kind)))
        .collect();
    let user_ref = "\"userId\" text not null references \"user\" (\"id\") on delete cascade";
    vec![
        Table {
            name: "user",
            create: format!(
                "create table \"user\" (\"id\" text not null primary key, \"name\" text not null, \"email\" text not null unique, \"emailVerified\" {boolean} not null, \"image\" text, \"createdAt\" {date}{now} not null, \"updatedAt\" {date}{now} not null{profile})"
            ),
        },
        Table {
            name: "session",
            create: format!(
                "create table \"session\" (\"id\" text not null primary key, \"expiresAt\" {date} not null, \"token\" text not null unique, \"createdAt\" {date}{now} not null, \"updatedAt\" {date} not null, \"ipAddress\" text, \"userAgent\" text, {user_ref})"
            ),
        },
        Table {
            name: "account",
            create: format!(
                "create table \"account\" (\"id\" text not null primary key, \"accountId\" text not null, \"providerId\" text not null, {user_ref}, \"accessToken\" text, \"refreshToken\" text, \"idToken\" text, \"accessTokenExpiresAt\" {date}, \"refreshTokenExpiresAt\" {date}, \"scope\" text, \"password\" text, \"createdAt\" {date}{now} not null, \"updatedAt\" {date} not null)"
            ),
        },
        Table {
            name: "verification",
            create: format!(
                "create table \"verification\" (\"id\" text not null primary key, \"identifier\" text not null, \"value\" text not null, \"expiresAt\" {date} not null, \"createdAt\" {date}{now} not null, \"updatedAt\" {date}{now} not null)"
            ),
        },
        Table {
            name: "jwks",
            create: format!(
                "create table \"jwks\" (\"id\" text not null primary key, \"publicKey\" text not null, \"privateKey\" text not null, \"createdAt\" {date} not null, \"expiresAt\" {date}, \"alg\" text, \"crv\" text)"
            ),
        },
    ]
}

/// The indexes Better Auth creates: (name, statement).
pub const INDEXES: [(&str, &str); 3] = [
    (
        "session_userId_idx",
        "create index \"session_userId_idx\" on \"session\" (\"userId\")",
    ),
    (
        "account_userId_idx",
        "create index \"account_userId_idx\" on \"account\" (\"userId\")",
    ),
    (
        "verification_identifier_idx",
        "create index \"verification_identifier_idx\" on \"verification\" (\"identifier\")",
    ),
];

/// What is missing from a database, as statements: tables, profile columns of `user`, Better
/// Auth's indexes. Never a drop or a rewrite.
pub fn plan(d: Dialect, schema: &ProfileSchema, have: &Catalog) -> Vec<String> {
    let has = |list: &[String], name: &str| list.iter().any(|n| n == name);
    let mut plan: Vec<String> = tables(d, schema)
        .into_iter()
        .filter(|t| !has(&have.tables, t.name))
        .map(|t| t.create)
        .collect();
    if has(&have.tables, "user") {
        for f in schema.fields() {
            if !has(&have.user_columns, &f.key) {
                plan.push(format!(
                    "alter table \"user\" add column {} {}",
                    ident(&f.key),
                    d.field_type(&f.kind)
                ));
            }
        }
    }
    for (name, create) in INDEXES {
        if !has(&have.indexes, name) {
            plan.push(create.to_owned());
        }
    }
    plan
}
