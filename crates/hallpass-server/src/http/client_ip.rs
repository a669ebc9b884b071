//! The client address a request comes from, for rate limiting: the TCP peer, or, when the peer
//! is a proxy named in `HALLPASS_TRUSTED_PROXIES`, the address that proxy says it forwarded for
//! (`X-Forwarded-For`, walked right to left past trusted hops). A header from anyone else is
//! ignored: a client cannot choose its own rate-limit bucket. IPv6 clients are keyed by their /64
//! (one subscriber usually holds a whole /64), IPv4-mapped IPv6 as IPv4.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// An address block: an address and a prefix length (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX`.
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether the block holds the address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), 32, self.prefix)
                    == masked(u128::from(u32::from(ip)), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
    }
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address of a request whose TCP peer is `peer`.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(peer?);
    let trusted = |ip: IpAddr| proxies.iter().any(|p| p.contains(ip));
    if !trusted(peer) {
        return Some(peer);
    }
    // Every hop appends the address it received from; the nearest untrusted one is the client.
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage in the chain: go no further than the last hop we could trust.
            return Some(client);
        };
        client = ip;
        if !trusted(ip) {
            break;
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: an address, with a port or brackets as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
}

/// The rate-limit key of an address: IPv4 as it is, IPv6 as its /64.
pub fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().filter_map(|s| IpNet::parse(s)).collect()
    }

    #[test]
    fn blocks_parse_and_match() {
        let n = IpNet::parse("10.1.0.0/16").unwrap_or(IpNet {
            addr: ip("0.0.0.0"),
            prefix: 32,
        });
        assert!(n.contains(ip("10.1.200.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(n.contains(ip("::ffff:10.1.0.9")));
        assert!(IpNet::parse("fd00::/8").is_some_and(|n| n.contains(ip("fd12::1"))));
        assert!(IpNet::parse("0.0.0.0/0").is_some_and(|n| n.contains(ip("8.8.8.8"))));
        assert!(IpNet::parse("127.0.0.1").is_some_and(|n| !n.contains(ip("127.0.0.2"))));
        assert_eq!(IpNet::parse("10.0.0.0/33"), None);
        assert_eq!(IpNet::parse("not-an-ip"), None);
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let h = forwarded("198.51.100.9");
        assert_eq!(
            client_ip(Some(ip("203.0.113.5")), &h, &[]),
            Some(ip("203.0.113.5"))
        );
        let proxies = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(Some(ip("203.0.113.5")), &h, &proxies),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("198.51.100.9"))
        );
    }

    #[test]
    fn the_chain_is_walked_right_to_left_past_trusted_hops() {
        let proxies = nets(&["10.0.0.0/8"]);
        // The client put a fake address first; the proxies appended the real one.
        let h = forwarded("1.1.1.1, 198.51.100.9, 10.0.0.7");
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("198.51.100.9"))
        );
        // Only trusted hops: the leftmost is as far as we can see.
        let h = forwarded("10.0.0.9, 10.0.0.7");
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("10.0.0.9"))
        );
        // Garbage stops the walk at the last trusted hop.
        let h = forwarded("198.51.100.9, garbage, 10.0.0.7");
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("10.0.0.7"))
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &HeaderMap::new(), &proxies),
            Some(ip("10.0.0.2"))
        );
        let h = forwarded("[2001:db8::1]:443");
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            bucket(ip("2001:db8:1:2:ffff::9")),
            bucket(ip("2001:db8:1:2::1"))
        );
        assert_ne!(bucket(ip("2001:db8:1:3::1")), bucket(ip("2001:db8:1:2::1")));
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }
}
