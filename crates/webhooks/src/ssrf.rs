//! Which webhook targets we are willing to connect to.
//!
//! The rule is checked on *resolved addresses* at every delivery (a DNS answer can change between
//! configuring a destination and delivering to it — DNS rebinding), and the connection is made only
//! to the addresses that passed: [`GuardedResolver`] is reqwest's resolver, so there is no second
//! lookup that could answer differently.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Global target policy of a delivery client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsrfPolicy {
    /// Accept `http://` destinations (default: https only).
    pub allow_http: bool,
    /// Non-public addresses inside these networks are accepted (tests, on-prem receivers).
    pub allowed_cidrs: Vec<IpNet>,
    /// Host names (or IP literals) accepted whatever they resolve to, compared case-insensitively.
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("scheme {0:?} not allowed (https only unless http is enabled)")]
    Scheme(String),
    #[error("URL must not contain credentials")]
    Credentials,
    #[error("{host} → {ip} is a {reason} address")]
    ForbiddenAddress {
        host: String,
        ip: IpAddr,
        reason: &'static str,
    },
    #[error("{0} resolved to no address")]
    NoAddress(String),
}

impl SsrfPolicy {
    /// https only, public addresses only.
    pub fn strict() -> Self {
        Self::default()
    }

    /// For tests and on-prem: allow http and the loopback networks.
    pub fn loopback_for_tests() -> Self {
        Self {
            allow_http: true,
            allowed_cidrs: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            allowed_hosts: Vec::new(),
        }
    }

    /// Parses a comma-separated allow-list such as `"10.0.0.0/8, 192.168.1.5, hooks.internal"`:
    /// CIDRs and bare IPs go to `allowed_cidrs`, anything else to `allowed_hosts`.
    pub fn with_allow_list(mut self, list: &str) -> Self {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Ok(net) = item.parse::<IpNet>() {
                self.allowed_cidrs.push(net);
            } else if let Ok(ip) = item.parse::<IpAddr>() {
                self.allowed_cidrs.push(IpNet::from(ip));
            } else {
                self.allowed_hosts.push(item.to_ascii_lowercase());
            }
        }
        self
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether connecting to `ip` (which `host` resolved to) is allowed.
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refusal> {
        let Some(reason) = non_public_reason(ip) else {
            return Ok(());
        };
        if self.host_allowed(host) || self.allowed_cidrs.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        Err(Refusal::ForbiddenAddress {
            host: host.to_owned(),
            ip,
            reason,
        })
    }

    /// Static checks of a destination URL (scheme, credentials, IP-literal hosts). Host names are
    /// checked after resolution, at delivery time. Use it also when a destination is configured.
    pub fn check_url(&self, url: &str) -> Result<Url, Refusal> {
        let url = Url::parse(url).map_err(|e| Refusal::InvalidUrl(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => return Err(Refusal::Scheme(other.to_owned())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        // The WHATWG parser already normalised `0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`, …
        // into IP hosts; IP literals never reach the resolver, so they are checked here.
        match url.host() {
            None => return Err(Refusal::InvalidUrl("no host".into())),
            Some(url::Host::Ipv4(ip)) => self.check_ip(&ip.to_string(), IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(&ip.to_string(), IpAddr::V6(ip))?,
            Some(url::Host::Domain(_)) => {}
        }
        Ok(url)
    }
}

impl SsrfPolicy {
    /// [`Self::check_url`] plus a DNS lookup of host names, refusing if **any** address is
    /// refused: for the API when a destination is created or updated (`localhost` → 400). Delivery
    /// does not rely on it; the resolver re-checks every time.
    pub async fn check_url_resolved(&self, url: &str) -> Result<Url, Refusal> {
        let parsed = self.check_url(url)?;
        if let Some(url::Host::Domain(host)) = parsed.host() {
            let addrs =
                tokio::net::lookup_host((host, parsed.port_or_known_default().unwrap_or(443)))
                    .await
                    .map_err(|_| Refusal::NoAddress(host.to_owned()))?;
            let mut any = false;
            for addr in addrs {
                self.check_ip(host, addr.ip())?;
                any = true;
            }
            if !any {
                return Err(Refusal::NoAddress(host.to_owned()));
            }
        }
        Ok(parsed)
    }
}

/// Why `ip` is not a public unicast address, or `None` if it is one.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (10, _, _) => "private",
        (100, 64..=127, _) => "CGNAT (100.64.0.0/10)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local",
        (172, 16..=31, _) => "private",
        (192, 168, _) => "private",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved/broadcast",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let seg = ip.segments();
    // Addresses that embed an IPv4 address are judged by it: IPv4-mapped (::ffff:a.b.c.d),
    // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    if seg[..6] == [0, 0, 0, 0, 0, 0] {
        return v4_reason(Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32));
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_reason(Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32));
    }
    if seg[0] == 0x2002 {
        return v4_reason(Ipv4Addr::from(((seg[1] as u32) << 16) | seg[2] as u32));
    }
    Some(match seg[0] {
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xfc00..=0xfdff => "unique-local",
        0xff00..=0xffff => "multicast",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        0x2001 if seg[1] == 0x0db8 => "documentation",
        _ => return None,
    })
}

/// reqwest resolver that drops every address the policy refuses; if nothing is left the
/// connection fails with [`Refusal`] (found again in the error chain to classify the outcome).
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<SsrfPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<SsrfPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // Port 0: the connector sets the URL's port on every returned address.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check_ip(&host, addr.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        first_refusal.get_or_insert(r);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let err = first_refusal.unwrap_or(Refusal::NoAddress(host));
                return Err(Box::new(err) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_non_public_ranges() {
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            assert!(
                non_public_reason(ip.parse().unwrap()).is_some(),
                "{ip} must be refused"
            );
        }
        for ip in [
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "18.203.201.92",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(
                non_public_reason(ip.parse().unwrap()),
                None,
                "{ip} is public"
            );
        }
    }

    #[tokio::test]
    async fn resolved_check_refuses_names_of_private_addresses() {
        let strict = SsrfPolicy {
            allow_http: true,
            ..SsrfPolicy::strict()
        };
        let err = strict
            .check_url_resolved("http://localhost:9/hook")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Refusal::ForbiddenAddress {
                    reason: "loopback",
                    ..
                }
            ),
            "{err:?}"
        );
        let allowed = strict.with_allow_list("localhost");
        assert!(allowed
            .check_url_resolved("http://localhost:9/hook")
            .await
            .is_ok());
    }

    #[test]
    fn url_checks() {
        let strict = SsrfPolicy::strict();
        assert!(strict.check_url("https://example.com/hook").is_ok());
        assert!(matches!(
            strict.check_url("http://example.com/hook"),
            Err(Refusal::Scheme(_))
        ));
        assert!(matches!(
            strict.check_url("ftp://example.com/"),
            Err(Refusal::Scheme(_))
        ));
        assert!(matches!(
            strict.check_url("https://u:p@example.com/"),
            Err(Refusal::Credentials)
        ));
        for url in [
            "https://127.0.0.1/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://[::1]/",
            "https://[::ffff:7f00:1]/",
            "https://169.254.169.254/latest",
        ] {
            assert!(
                matches!(strict.check_url(url), Err(Refusal::ForbiddenAddress { .. })),
                "{url}"
            );
        }
        let allowed = SsrfPolicy::strict().with_allow_list("127.0.0.0/8, 10.0.0.7, hooks.internal");
        assert!(allowed.check_url("https://127.0.0.1:8443/").is_ok());
        assert!(allowed.check_url("https://[::1]/").is_err());
        assert!(allowed.check_ip("x", "10.0.0.7".parse().unwrap()).is_ok());
        assert!(allowed.check_ip("x", "10.0.0.8".parse().unwrap()).is_err());
        assert!(allowed
            .check_ip("Hooks.Internal", "10.9.9.9".parse().unwrap())
            .is_ok());
    }
}
