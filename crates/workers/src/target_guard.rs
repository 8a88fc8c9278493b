//! Keeps webhook sends off addresses they may not reach (`tally_domain::webhook_targets`),
//! checked on the address actually connected to: a DNS resolver that drops refused addresses
//! from every answer (so a name that resolves, or later re-resolves, to a private address is
//! refused), and a check of addresses written in the URL itself, which no resolver sees.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use tally_domain::webhook_targets::{AllowedNetworks, RefusedAddress, literal_address};

/// Resolves names through the system resolver, or through a fixed table for the names it
/// holds (tests), and answers only with addresses deliveries may reach.
pub struct GuardedResolver {
    allowed: AllowedNetworks,
    pinned: BTreeMap<String, Vec<IpAddr>>,
}

impl GuardedResolver {
    pub fn new(allowed: AllowedNetworks, pinned: &[(String, IpAddr)]) -> Self {
        let mut table: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
        for (name, address) in pinned {
            table
                .entry(name.to_ascii_lowercase())
                .or_default()
                .push(*address);
        }
        Self {
            allowed,
            pinned: table,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_owned();
        let pinned = self.pinned.get(&host).cloned();
        Box::pin(async move {
            let found: Vec<IpAddr> = match pinned {
                Some(addresses) => addresses,
                // The port is set by the connector; 0 is the resolver convention.
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .map(|address| address.ip())
                    .collect(),
            };
            let mut refused = None;
            let reachable: Vec<SocketAddr> = found
                .into_iter()
                .filter_map(|address| match allowed.check(address) {
                    Ok(()) => Some(SocketAddr::new(address, 0)),
                    Err(refusal) => {
                        refused.get_or_insert(refusal);
                        None
                    }
                })
                .collect();
            match (reachable.is_empty(), refused) {
                (true, Some(refusal)) => Err(Box::new(Refused::Name { host, refusal }) as _),
                _ => Ok(Box::new(reachable.into_iter()) as Addrs),
            }
        })
    }
}

/// Why a send did not connect.
#[derive(Debug)]
pub enum Refused {
    /// The URL names an address deliveries may not reach.
    Address(RefusedAddress),
    /// Every address the name resolved to is one deliveries may not reach.
    Name {
        host: String,
        refusal: RefusedAddress,
    },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Address(refusal) => write!(f, "refused: {refusal}"),
            Refused::Name { host, refusal } => write!(
                f,
                "refused: {host} resolves only to addresses webhooks may not reach ({refusal})"
            ),
        }
    }
}

impl std::error::Error for Refused {}

/// The refusal for a URL whose host is an address (or `localhost`) deliveries may not reach;
/// names are left to the resolver.
pub fn check_literal(url: &str, allowed: &AllowedNetworks) -> Result<(), Refused> {
    match literal_address(url) {
        Some(address) => allowed.check(address).map_err(Refused::Address),
        None => Ok(()),
    }
}

/// The resolver's refusal inside a failed request, if that is why it failed.
pub fn refusal_in(error: &reqwest::Error) -> Option<&Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Some(refused);
        }
        source = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::HttpTransport;
    use std::time::Duration;
    use tally_app::webhooks::WebhookTransport;
    use tally_domain::webhook_targets::AllowedNetworks;
    use tally_domain::webhooks::{Delivery, DeliveryStatus};
    use tally_domain::{OrgId, Timestamp};

    fn delivery() -> Delivery {
        Delivery {
            id: "whd_1".into(),
            org_id: OrgId::new("org"),
            endpoint_id: "whe_1".into(),
            event_id: "whev_1".into(),
            event_type: "seats.updated".into(),
            body_id: "whb_1".into(),
            body: "{}".into(),
            signature: "00".into(),
            timestamp: "t".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Timestamp::from_millis(0),
            created_at: Timestamp::from_millis(0),
        }
    }

    #[tokio::test]
    async fn an_address_in_the_url_is_refused_before_any_connection() {
        // Goal: addresses written in a URL never reach the resolver, so they are checked on
        // their own. Method: a listener on loopback that would see any connection.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let transport =
            HttpTransport::new(Duration::from_secs(2), AllowedNetworks::none(), &[]).unwrap();

        for url in [
            format!("http://127.0.0.1:{port}/hooks"),
            format!("http://0x7f000001:{port}/hooks"),
            format!("http://[::ffff:127.0.0.1]:{port}/hooks"),
        ] {
            let result = transport.send(&url, &delivery()).await;

            assert_eq!(result.status_code, None, "{url}");
            let error = result.error.unwrap_or_default();
            assert!(
                error.starts_with("refused: ") && error.contains("127.0.0.1 is a loopback address"),
                "{url}: {error}"
            );
        }
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "no connection was made");
    }
}
