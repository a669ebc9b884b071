//! An in-process cache of sessions and users, so a session check costs no database round trip.
//!
//! Correctness rules: every change this process makes updates or drops the affected entries at
//! once; changes made by other processes reach it through the store's invalidation feed (PostgreSQL
//! LISTEN/NOTIFY) when there is one; and no entry is trusted longer than `ttl`, which bounds
//! staleness even when a feed message is lost (or, on SQLite, when the CLI changes the file).

use crate::model::{Session, SessionWithUser, User};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before the cache is emptied and refilled (a simple, bounded-memory policy).
const MAX_ENTRIES: usize = 100_000;

/// What another process changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// A session was deleted or changed.
    Session(String),
    /// A user was changed or deleted (their sessions may have been too).
    User(String),
    /// Everything may have changed (the feed was interrupted).
    All,
}

struct UserEntry {
    user: User,
    at: Instant,
    jwt: Option<(String, Instant)>,
}

/// The cache.
pub struct SessionCache {
    ttl: Duration,
    sessions: Mutex<HashMap<String, (Session, Instant)>>,
    users: Mutex<HashMap<String, UserEntry>>,
}

impl SessionCache {
    /// A cache whose entries live at most `ttl`; a zero ttl disables it.
    pub fn new(ttl: Duration) -> SessionCache {
        SessionCache {
            ttl,
            sessions: Mutex::new(HashMap::new()),
            users: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.ttl
    }

    /// The cached session and user for a token, if both are fresh.
    pub fn get(&self, token: &str) -> Option<SessionWithUser> {
        if self.ttl.is_zero() {
            return None;
        }
        let session = {
            let map = self.sessions.lock().ok()?;
            let (s, at) = map.get(token)?;
            self.fresh(*at).then(|| s.clone())?
        };
        let users = self.users.lock().ok()?;
        let entry = users.get(&session.user_id)?;
        self.fresh(entry.at).then(|| SessionWithUser {
            session,
            user: entry.user.clone(),
        })
    }

    /// Remembers a session and its user.
    pub fn put(&self, found: &SessionWithUser) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        if let Ok(mut map) = self.sessions.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(found.session.token.clone(), (found.session.clone(), now));
        }
        self.put_user(&found.user);
    }

    /// Remembers a user's new state (after an update this process made).
    pub fn put_user(&self, user: &User) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut users) = self.users.lock() {
            if users.len() >= MAX_ENTRIES {
                users.clear();
            }
            users.insert(
                user.id.clone(),
                UserEntry {
                    user: user.clone(),
                    at: Instant::now(),
                    jwt: None,
                },
            );
        }
    }

    /// A JWT issued for this exact user state within `reuse`, if any.
    pub fn jwt(&self, user: &User, reuse: Duration) -> Option<String> {
        let users = self.users.lock().ok()?;
        let entry = users.get(&user.id)?;
        let (jwt, at) = entry.jwt.as_ref()?;
        (entry.user == *user && at.elapsed() < reuse).then(|| jwt.clone())
    }

    /// Remembers the JWT issued for a user.
    pub fn put_jwt(&self, user: &User, jwt: &str) {
        if let Ok(mut users) = self.users.lock() {
            if let Some(entry) = users.get_mut(&user.id).filter(|e| e.user == *user) {
                entry.jwt = Some((jwt.to_owned(), Instant::now()));
            }
        }
    }

    /// Applies an invalidation.
    pub fn invalidate(&self, what: &Invalidation) {
        match what {
            Invalidation::Session(token) => {
                if let Ok(mut map) = self.sessions.lock() {
                    map.remove(token);
                }
            }
            Invalidation::User(id) => {
                if let Ok(mut users) = self.users.lock() {
                    users.remove(id);
                }
                if let Ok(mut map) = self.sessions.lock() {
                    map.retain(|_, (s, _)| s.user_id != *id);
                }
            }
            Invalidation::All => {
                if let Ok(mut map) = self.sessions.lock() {
                    map.clear();
                }
                if let Ok(mut users) = self.users.lock() {
                    users.clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now;
    use serde_json::Map;

    fn sample(token: &str, user_id: &str) -> SessionWithUser {
        let t = now();
        SessionWithUser {
            session: Session {
                id: "s".into(),
                token: token.into(),
                user_id: user_id.into(),
                expires_at: t,
                created_at: t,
                updated_at: t,
                ip_address: String::new(),
                user_agent: String::new(),
            },
            user: User {
                id: user_id.into(),
                name: "n".into(),
                email: "e@example.com".into(),
                email_verified: false,
                image: None,
                created_at: t,
                updated_at: t,
                profile: Map::new(),
            },
        }
    }

    #[test]
    fn cached_sessions_come_back_until_invalidated() {
        let c = SessionCache::new(Duration::from_secs(60));
        c.put(&sample("t1", "u1"));
        c.put(&sample("t2", "u1"));
        assert!(c.get("t1").is_some());
        c.invalidate(&Invalidation::Session("t1".into()));
        assert!(c.get("t1").is_none());
        assert!(c.get("t2").is_some());
        c.invalidate(&Invalidation::User("u1".into()));
        assert!(c.get("t2").is_none());
    }

    #[test]
    fn user_updates_are_seen_through_every_session() {
        let c = SessionCache::new(Duration::from_secs(60));
        c.put(&sample("t1", "u1"));
        let mut u = sample("t1", "u1").user;
        u.name = "changed".into();
        c.put_user(&u);
        assert_eq!(c.get("t1").map(|s| s.user.name), Some("changed".into()));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let c = SessionCache::new(Duration::from_millis(30));
        c.put(&sample("t1", "u1"));
        std::thread::sleep(Duration::from_millis(50));
        assert!(c.get("t1").is_none());
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let c = SessionCache::new(Duration::ZERO);
        c.put(&sample("t1", "u1"));
        assert!(c.get("t1").is_none());
    }

    #[test]
    fn a_jwt_is_reused_only_for_the_same_user_state() {
        let c = SessionCache::new(Duration::from_secs(60));
        let s = sample("t1", "u1");
        c.put(&s);
        c.put_jwt(&s.user, "jwt-1");
        assert_eq!(
            c.jwt(&s.user, Duration::from_secs(30)).as_deref(),
            Some("jwt-1")
        );
        let mut changed = s.user.clone();
        changed.name = "x".into();
        assert_eq!(c.jwt(&changed, Duration::from_secs(30)), None);
        assert_eq!(c.jwt(&s.user, Duration::ZERO), None);
    }
}
