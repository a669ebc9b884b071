//! HTTP plumbing shared by every route: the wire's error shape, request bodies, cookies and
//! bearer tokens, origin checks and CORS.

pub mod around;
pub mod body;
pub mod client_ip;
pub mod cookies;
pub mod cors;
pub mod error;
pub mod limit;
pub mod origin;
