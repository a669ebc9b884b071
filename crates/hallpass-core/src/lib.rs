//! hallpass domain: users, sessions, the profile schema, passwords, signed tokens and signing keys,
//! and the storage traits that every database store implements.
//!
//! Nothing here knows HTTP or SQL. The server crate translates HTTP into calls on [`AuthService`];
//! the store crates translate the storage traits into SQL. Normalization (email case, NFKC passwords)
//! happens here, once, so every database behaves the same.

pub mod cache;
pub mod clock;
pub mod email;
pub mod error;
pub mod id;
pub mod keys;
pub mod lifecycle;
pub mod model;
pub mod password;
pub mod profile;
pub mod secret;
pub mod service;
pub mod store;

pub use error::DomainError;
pub use model::{Session, SessionWithUser, User};
pub use service::{AuthService, SessionPolicy};
pub use store::{Store, StoreError};
