//! hallpass storage on PostgreSQL (in progress).
