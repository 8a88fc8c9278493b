//! Usage counters as stored, and the storage form of event properties.

use crate::decode::sql_row;
use serde::Serialize;
use tally_domain::Timestamp;
use tally_domain::period::BillingPeriod;
use tally_domain::subscription::SubscriptionId;
use tally_domain::usage::{UsageCounter, UsageProperty};

sql_row! {
    pub struct UsageCounterRow {
        subscription_id: String,
        feature_code: String,
        period_start_ms: i64,
        period_end_ms: i64,
        used: i64,
        spent: i64,
        threshold_fired: bool,
        exceeded_fired: bool,
        updated_at_ms: i64,
    }
}

impl UsageCounterRow {
    pub fn into_domain(self) -> UsageCounter {
        UsageCounter {
            subscription_id: SubscriptionId::from_stored(self.subscription_id),
            feature_code: self.feature_code,
            period: BillingPeriod {
                start: Timestamp::from_millis(self.period_start_ms),
                end: Timestamp::from_millis(self.period_end_ms),
            },
            used: self.used,
            spent: self.spent,
            threshold_fired: self.threshold_fired,
            exceeded_fired: self.exceeded_fired,
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        }
    }
}

sql_row! {
    /// A row of `hot_stamps`: the stamp of the `i`-th ask.
    pub struct HotStampRow {
        pub i: i64,
        live_keys: i64,
        test_clock_ms: Option<i64>,
        customer_id: Option<String>,
        customer_version: i64,
        catalog_version: i64,
    }
}

impl HotStampRow {
    pub fn into_domain(self) -> tally_store::HotStamp {
        tally_store::HotStamp {
            standing: (self.live_keys > 0).then(|| tally_store::KeyStanding {
                test_clock: self.test_clock_ms.map(Timestamp::from_millis),
            }),
            customer: self.customer_id.map(tally_domain::CustomerId::from_stored),
            customer_version: self.customer_version,
            catalog_version: self.catalog_version,
        }
    }
}

/// Storage form of an event's properties (not a wire format).
#[derive(Serialize)]
struct StoredProperty<'a> {
    property: &'a str,
    value: &'a str,
}

pub fn usage_properties_text(properties: &[UsageProperty]) -> String {
    let stored: Vec<StoredProperty<'_>> = properties
        .iter()
        .map(|p| StoredProperty {
            property: &p.property,
            value: &p.value,
        })
        .collect();
    serde_json::to_string(&stored).expect("properties are plain strings")
}
