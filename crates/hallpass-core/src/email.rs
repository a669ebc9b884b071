//! Email addresses, parsed once: trimmed of nothing, lower-cased, and checked with the same rule as
//! the zod `z.email()` validator that Better Auth uses, so both servers accept the same addresses.

use std::fmt;

/// A syntactically valid, lower-cased email address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses and lower-cases an address. Rule (zod 4 default): a local part of
    /// `[A-Za-z0-9_'+\-.]` that neither starts with a dot, nor has two dots in a row, nor ends with
    /// a dot or `'`; an `@`; one or more labels `[A-Za-z0-9][A-Za-z0-9-]*` each followed by a dot;
    /// and a top-level label of at least two letters.
    pub fn parse(raw: &str) -> Option<Email> {
        if raw.len() > 254 {
            return None;
        }
        let (local, domain) = raw.rsplit_once('@')?;
        if !valid_local(local) || !valid_domain(domain) {
            return None;
        }
        Some(Email(raw.to_lowercase()))
    }

    /// The address, lower-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, lower-cased.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn valid_local(local: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_'+-.".contains(c);
    let Some(last) = local.chars().last() else {
        return false;
    };
    local.chars().all(ok_char)
        && !local.starts_with('.')
        && !local.contains("..")
        && (last.is_ascii_alphanumeric() || "_+-".contains(last))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, rest)) = labels.split_last() else {
        return false;
    };
    !rest.is_empty()
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && rest.iter().all(|l| {
            l.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lower_cased() {
        assert_eq!(
            Email::parse("Ada@Example.COM")
                .map(Email::into_string)
                .as_deref(),
            Some("ada@example.com")
        );
    }

    #[test]
    fn ordinary_addresses_are_accepted() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'neil@example.com",
            "x_y-z@a-b.example.io",
        ] {
            assert!(Email::parse(ok).is_some(), "{ok}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "not-an-email",
            "@example.com",
            "a@",
            "a@b",
            "a@b.c",
            ".a@b.com",
            "a..b@c.com",
            "a.@b.com",
            "a@-b.com",
            "a b@c.com",
            "a@b..com",
            "ü@example.com",
            "a@exa mple.com",
            "a@b.c0m",
            "a@@b.com",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn absurdly_long_addresses_are_refused() {
        let long = format!("{}@example.com", "a".repeat(300));
        assert!(Email::parse(&long).is_none());
    }
}
