//! API version 2026-08-27 (current, `commet-sdk` 9.7.0). Identical to 2026-07-31 except that
//! every subscription shape carries `pause` (`lifecycle.md` §6) and
//! `semiannual` becomes a valid interval (`wire.md` §3.5).

pub use crate::v2026_07_31::*;

/// What 2026-08-27 adds to every subscription shape.
pub const EXTRAS: Extras = Extras {
    discount: false,
    pause: true,
};

/// The answer to `POST /subscriptions/{id}/resume` (`lifecycle.md` §2).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionResumeOut<'a> {
    pub subscription_id: &'a str,
    pub invoice_id: Option<&'a str>,
    /// `succeeded`: Tally settles at once.
    pub status: &'static str,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn subscription_resume(
    subscription_id: &str,
    invoice_id: Option<&str>,
    livemode: crate::Livemode,
) -> serde_json::Value {
    crate::to_value(SubscriptionResumeOut {
        subscription_id,
        invoice_id,
        status: "succeeded",
        object: "subscription_resume",
        livemode: livemode.0,
    })
}

/// The direct answer to a reactivation (`lifecycle.md` §7).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactivationOut<'a> {
    pub subscription_id: &'a str,
    pub invoice_id: &'a str,
    /// `succeeded`: Tally settles at once.
    pub status: &'static str,
    pub object: &'static str,
    pub livemode: bool,
}
