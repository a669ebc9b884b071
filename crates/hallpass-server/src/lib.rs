//! The hallpass server: the Better Auth compatible HTTP API, configuration and the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod openapi;
pub mod routes;
pub mod state;
