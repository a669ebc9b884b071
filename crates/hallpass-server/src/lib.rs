//! The hallpass server: the Better Auth compatible HTTP API, the built-in pages, configuration and
//! the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod serve;
pub mod state;
