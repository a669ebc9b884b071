//! Better Auth's PostgreSQL schema, exactly as its Kysely migrations create it (reference, 6.2):
//! `timestamptz` dates, native booleans, `default CURRENT_TIMESTAMP` where Better Auth has one,
//! and each configured profile field as a column of `user`. hallpass only ever adds what is missing.

use hallpass_core::profile::{FieldType, ProfileSchema};

/// A table: its name and its `create table` statement.
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// The statement that creates it.
    pub create: String,
}

/// PostgreSQL column type of a profile field (reference, 6.2 "Type map").
pub fn column_type(kind: &FieldType) -> &'static str {
    match kind {
        FieldType::String | FieldType::Enum => "text",
        FieldType::Number => "integer",
        FieldType::Boolean => "boolean",
    }
}

/// The five tables, in creation order (user before the tables that reference it).
pub fn tables(schema: &ProfileSchema) -> Vec<Table> {
    let profile_cols: String = schema
        .fields()
        .iter()
        .map(|f| format!(", \"{}\" {}", f.key, column_type(&f.kind)))
        .collect();
    vec![
        Table {
            name: "user",
            create: format!(
                "create table \"user\" (\"id\" text not null primary key, \"name\" text not null, \"email\" text not null unique, \"emailVerified\" boolean not null, \"image\" text, \"createdAt\" timestamptz default CURRENT_TIMESTAMP not null, \"updatedAt\" timestamptz default CURRENT_TIMESTAMP not null{profile_cols})"
            ),
        },
        Table {
            name: "session",
            create: "create table \"session\" (\"id\" text not null primary key, \"expiresAt\" timestamptz not null, \"token\" text not null unique, \"createdAt\" timestamptz default CURRENT_TIMESTAMP not null, \"updatedAt\" timestamptz not null, \"ipAddress\" text, \"userAgent\" text, \"userId\" text not null references \"user\" (\"id\") on delete cascade)".into(),
        },
        Table {
            name: "account",
            create: "create table \"account\" (\"id\" text not null primary key, \"accountId\" text not null, \"providerId\" text not null, \"userId\" text not null references \"user\" (\"id\") on delete cascade, \"accessToken\" text, \"refreshToken\" text, \"idToken\" text, \"accessTokenExpiresAt\" timestamptz, \"refreshTokenExpiresAt\" timestamptz, \"scope\" text, \"password\" text, \"createdAt\" timestamptz default CURRENT_TIMESTAMP not null, \"updatedAt\" timestamptz not null)".into(),
        },
        Table {
            name: "verification",
            create: "create table \"verification\" (\"id\" text not null primary key, \"identifier\" text not null, \"value\" text not null, \"expiresAt\" timestamptz not null, \"createdAt\" timestamptz default CURRENT_TIMESTAMP not null, \"updatedAt\" timestamptz default CURRENT_TIMESTAMP not null)".into(),
        },
        Table {
            name: "jwks",
            create: "create table \"jwks\" (\"id\" text not null primary key, \"publicKey\" text not null, \"privateKey\" text not null, \"createdAt\" timestamptz not null, \"expiresAt\" timestamptz, \"alg\" text, \"crv\" text)".into(),
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
