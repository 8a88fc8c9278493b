//! Which network addresses webhook deliveries and test sends may connect to.
//!
//! An endpoint URL is chosen by whoever holds an API key, and the delivery log shows what the
//! receiver answered: without a rule, an endpoint is a way into the server's own network
//! (services on loopback, private ranges, the cloud metadata address) that reads the answers
//! back. Decision: by default only public addresses are reached; the operator may allow ranges
//! (`AllowedNetworks`), loopback for local development for example.
//!
//! The rule is applied to the address actually connected to: here for addresses written in the
//! URL itself (in any spelling the URL standard accepts, `0x7f000001` and `2130706433` being
//! 127.0.0.1), by the workers' transport for names, after each DNS resolution. No IO here.

use crate::DomainError;
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonPublic {
    /// `0.0.0.0/8`, `::` (Linux connects `0.0.0.0` to the machine itself).
    Unspecified,
    Loopback,
    /// RFC 1918 ranges and IPv6 site-local.
    Private,
    /// `100.64.0.0/10`, shared by carrier-grade NAT.
    SharedNat,
    LinkLocal,
    /// IPv6 `fc00::/7`.
    UniqueLocal,
    Multicast,
    /// An address where clouds serve instance credentials (some are also in the ranges above).
    Metadata,
    /// Reserved, documentation, benchmarking or otherwise not globally routable.
    Reserved,
}

impl NonPublic {
    pub fn as_str(self) -> &'static str {
        match self {
            NonPublic::Unspecified => "unspecified",
            NonPublic::Loopback => "loopback",
            NonPublic::Private => "private",
            NonPublic::SharedNat => "shared (carrier-grade NAT)",
            NonPublic::LinkLocal => "link-local",
            NonPublic::UniqueLocal => "unique-local",
            NonPublic::Multicast => "multicast",
            NonPublic::Metadata => "cloud metadata",
            NonPublic::Reserved => "reserved (not globally routable)",
        }
    }
}

/// Addresses clouds serve instance metadata and credentials on: AWS (also ECS and IPv6),
/// Azure, Alibaba, Oracle. Named so that a refusal says what they are.
const METADATA_V4: [Ipv4Addr; 5] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(168, 63, 129, 16),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(192, 0, 0, 192),
];
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)];

/// What keeps `address` from being public, or `None` for a public address. IPv6 forms that
/// carry an IPv4 address (mapped, NAT64, 6to4) are judged by the IPv4 address they reach.
pub fn non_public(address: IpAddr) -> Option<NonPublic> {
    match address {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<NonPublic> {
    let [a, b, c, _] = ip.octets();
    let kind = if METADATA_V4.contains(&ip) {
        NonPublic::Metadata
    } else if a == 0 {
        NonPublic::Unspecified
    } else if ip.is_loopback() {
        NonPublic::Loopback
    } else if ip.is_private() {
        NonPublic::Private
    } else if a == 100 && (b & 0xc0) == 64 {
        NonPublic::SharedNat
    } else if ip.is_link_local() {
        NonPublic::LinkLocal
    } else if ip.is_multicast() {
        NonPublic::Multicast
    } else if a >= 240
        || (a == 192 && b == 0 && c == 0)
        || ip.is_documentation()
        || (a == 198 && (b & 0xfe) == 18)
        || (a == 192 && b == 88 && c == 99)
    {
        // 240/4 with the broadcast address, IETF protocol assignments, documentation,
        // benchmarking, the retired 6to4 relay.
        NonPublic::Reserved
    } else {
        return None;
    };
    Some(kind)
}

fn non_public_v6(ip: Ipv6Addr) -> Option<NonPublic> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    let kind = if METADATA_V6.contains(&ip) {
        NonPublic::Metadata
    } else if ip.is_unspecified() {
        NonPublic::Unspecified
    } else if ip.is_loopback() {
        NonPublic::Loopback
    } else if s[..6] == [0; 6] {
        // IPv4-compatible addresses, deprecated.
        NonPublic::Reserved
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64: the gateway connects to the IPv4 address inside.
        return non_public_v4(embedded_v4(s[6], s[7]));
    } else if s[0] == 0x2002 {
        // 6to4: the relay connects to the IPv4 address inside.
        return non_public_v4(embedded_v4(s[1], s[2]));
    } else if (s[0] & 0xfe00) == 0xfc00 {
        NonPublic::UniqueLocal
    } else if (s[0] & 0xffc0) == 0xfe80 {
        NonPublic::LinkLocal
    } else if (s[0] & 0xffc0) == 0xfec0 {
        NonPublic::Private
    } else if (s[0] & 0xff00) == 0xff00 {
        NonPublic::Multicast
    } else if (s[0] & 0xe000) != 0x2000
        || (s[0] == 0x2001 && s[1] < 0x0200)
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x3fff && s[1] < 0x1000)
    {
        // Outside global unicast (2000::/3, which also leaves out NAT64's local-use range and
        // the discard prefix), IETF protocol assignments (Teredo among them), documentation.
        NonPublic::Reserved
    } else {
        return None;
    };
    Some(kind)
}

/// Address ranges the operator allows deliveries to reach besides public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedNetworks(Vec<IpNet>);

impl AllowedNetworks {
    /// Public addresses only (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// A comma-separated list of CIDR ranges (`127.0.0.0/8, ::1/128`); a bare address stands
    /// for itself. The error names the entry that is neither.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not a CIDR range such as 127.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether deliveries may connect to `address`: a public one, or one in an allowed range.
    pub fn check(&self, address: IpAddr) -> Result<(), RefusedAddress> {
        let canonical = address.to_canonical();
        let is_allowed = self
            .0
            .iter()
            .any(|net| net.contains(&address) || net.contains(&canonical));
        match non_public(address) {
            Some(kind) if !is_allowed => Err(RefusedAddress { address, kind }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for AllowedNetworks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(IpNet::to_string).collect();
        f.write_str(&list.join(","))
    }
}

/// An address deliveries may not connect to, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedAddress {
    pub address: IpAddr,
    pub kind: NonPublic,
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is a {} address; webhooks go only to public addresses unless the operator allows the range",
            self.address,
            self.kind.as_str()
        )
    }
}

/// The address an endpoint URL names in its host, as the HTTP client reads it (the URL
/// standard's parser: `0x7f000001`, `2130706433`, `127.1` and `[::ffff:127.0.0.1]` all name
/// 127.0.0.1); `localhost` names loopback. `None` for any other name, or a URL that does not
/// parse.
pub fn literal_address(url: &str) -> Option<IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            (name == "localhost" || name.ends_with(".localhost"))
                .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
    }
}

/// Checks the host an endpoint URL names literally: an address there, or `localhost`, must be
/// one deliveries may reach. A name is checked when a delivery resolves it, as DNS answers
/// change after the endpoint is saved.
pub fn check_target(url: &str, allowed: &AllowedNetworks) -> Result<(), DomainError> {
    match literal_address(url).map(|address| allowed.check(address)) {
        Some(Err(refused)) => Err(DomainError::field(
            "url",
            format!("url may not point at {refused}"),
        )),
        _ => Ok(()),
    }
}

/// True when `url` names `port` on this machine (a loopback or unspecified address in any
/// spelling, or `localhost`), where this server's own API listens.
pub fn is_local_port(url: &str, port: u16) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let is_local = literal_address(url).is_some_and(|address| {
        let address = address.to_canonical();
        address.is_loopback() || address.is_unspecified()
    });
    is_local && parsed.port_or_known_default() == Some(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_pass_by_default() {
        let cases = [
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
            ("127.0.0.1", Some(NonPublic::Loopback)),
            ("::1", Some(NonPublic::Loopback)),
            ("0.0.0.0", Some(NonPublic::Unspecified)),
            ("::", Some(NonPublic::Unspecified)),
            ("10.1.2.3", Some(NonPublic::Private)),
            ("172.16.0.1", Some(NonPublic::Private)),
            ("192.168.1.1", Some(NonPublic::Private)),
            ("100.64.0.1", Some(NonPublic::SharedNat)),
            ("169.254.1.1", Some(NonPublic::LinkLocal)),
            ("169.254.169.254", Some(NonPublic::Metadata)),
            ("168.63.129.16", Some(NonPublic::Metadata)),
            ("fd00:ec2::254", Some(NonPublic::Metadata)),
            ("224.0.0.1", Some(NonPublic::Multicast)),
            ("255.255.255.255", Some(NonPublic::Reserved)),
            ("198.18.0.1", Some(NonPublic::Reserved)),
            ("fd12:3456::1", Some(NonPublic::UniqueLocal)),
            ("fe80::1", Some(NonPublic::LinkLocal)),
            ("ff02::1", Some(NonPublic::Multicast)),
            ("2001:db8::1", Some(NonPublic::Reserved)),
            ("::ffff:127.0.0.1", Some(NonPublic::Loopback)),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::a00:1", Some(NonPublic::Private)),
            ("2002:a9fe:a9fe::1", Some(NonPublic::Metadata)),
            ("::127.0.0.1", Some(NonPublic::Reserved)),
        ];
        for (address, expected) in cases {
            assert_eq!(non_public(ip(address)), expected, "{address}");
            assert_eq!(
                AllowedNetworks::none().check(ip(address)).is_ok(),
                expected.is_none(),
                "{address}"
            );
        }
    }

    #[test]
    fn allowed_ranges_open_what_they_contain_in_any_spelling() {
        let loopback = AllowedNetworks::parse("127.0.0.0/8, ::1").unwrap();

        assert!(loopback.check(ip("127.0.0.1")).is_ok());
        assert!(loopback.check(ip("::ffff:127.0.0.1")).is_ok());
        assert!(loopback.check(ip("::1")).is_ok());
        assert!(loopback.check(ip("10.0.0.1")).is_err());
        assert_eq!(loopback.to_string(), "127.0.0.0/8,::1/128");
        assert!(AllowedNetworks::parse("").unwrap().is_empty());
        assert!(AllowedNetworks::parse("127.0.0.0/8,nope").is_err());
        assert!(AllowedNetworks::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn literal_hosts_are_read_as_the_http_client_reads_them() {
        for url in [
            "http://0x7f000001/hooks",
            "http://2130706433/hooks",
            "http://127.1/hooks",
            "http://0177.0.0.1/hooks",
            "http://[::ffff:127.0.0.1]/hooks",
            "http://localhost:9000/hooks",
            "http://api.localhost./hooks",
        ] {
            let address = literal_address(url).map(|a| a.to_canonical());
            assert_eq!(address, Some(ip("127.0.0.1")), "{url}");
            assert!(
                check_target(url, &AllowedNetworks::none()).is_err(),
                "{url}"
            );
        }
        assert_eq!(literal_address("https://hooks.example.com/x"), None);
        assert!(check_target("https://hooks.example.com/x", &AllowedNetworks::none()).is_ok());
    }

    #[test]
    fn this_servers_port_is_recognised_in_any_local_spelling() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://0x7f000001:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://[::1]:8080/",
            "http://0.0.0.0:8080/",
            "http://localhost:8080/",
        ] {
            assert!(is_local_port(url, 8080), "{url}");
        }
        assert!(!is_local_port("http://127.0.0.1:8081/", 8080));
        assert!(!is_local_port("http://example.com:8080/", 8080));
        assert!(is_local_port("http://127.0.0.1/", 80));
    }
}
