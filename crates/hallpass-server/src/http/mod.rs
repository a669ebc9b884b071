//! HTTP plumbing shared by every route: the wire's error shape, request bodies, cookies and
//! bearer tokens, origin checks and CORS.

pub mod body;
pub mod cookies;
pub mod cors;
pub mod error;
pub mod origin;
