//! Request bodies (`…In`), the same in every version implemented so far. Unknown fields are
//! ignored (`wire.md` §2.2); a JSON `null` in an optional field counts as absent. Fields are
//! `Option` so that a missing one gets a `validation_error` naming it; the ones a request
//! needs are marked required for the OpenAPI documents.

use serde::Deserialize;
use serde_json::Value;
use tally_domain::DomainError;
use tally_domain::api_key::NewApiKey;
use tally_domain::customer::{CustomerFields, CustomerPatch, Metadata, NewCustomer};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerIn {
    #[schema(required = true, nullable = false)]
    pub email: Option<String>,
    /// The merchant's own identifier; stored as `externalId` (`catalog.md` §2).
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub tax_document: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub address: Option<serde_json::Map<String, Value>>,
    pub address_id: Option<String>,
    pub timezone: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

impl CreateCustomerIn {
    pub fn into_domain(self) -> Result<NewCustomer, DomainError> {
        let external_id = match (self.id, self.external_id) {
            (Some(id), Some(external)) if id != external => {
                return Err(DomainError::field(
                    "externalId",
                    "id and externalId name the same field; send one, or the same value in both",
                ));
            }
            (id, external) => external.or(id),
        };
        NewCustomer::parse(CustomerFields {
            email: self.email,
            external_id,
            full_name: self.full_name,
            tax_document: self.tax_document,
            timezone: self.timezone,
            metadata: self.metadata,
            address: address(self.address, self.address_id),
        })
    }
}

/// Keeps whichever address form was sent; neither is echoed back.
fn address(
    address: Option<serde_json::Map<String, Value>>,
    address_id: Option<String>,
) -> Option<Value> {
    address
        .map(Value::Object)
        .or_else(|| address_id.map(|id| serde_json::json!({ "addressId": id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCustomerIn {
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub tax_document: Option<String>,
    pub timezone: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
    #[schema(value_type = Option<Object>)]
    pub address: Option<serde_json::Map<String, Value>>,
}

impl UpdateCustomerIn {
    pub fn into_domain(self) -> Result<CustomerPatch, DomainError> {
        CustomerPatch::parse(CustomerFields {
            email: self.email,
            external_id: self.external_id,
            full_name: self.full_name,
            tax_document: self.tax_document,
            timezone: self.timezone,
            metadata: self.metadata,
            address: self.address.map(Value::Object),
        })
    }
}

/// `{customers: [...]}`; items stay raw JSON so each one can fail on its own and be echoed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerBatchIn {
    pub customers: Vec<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKeyIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    pub expires_in_days: Option<i64>,
    /// Restricted keys are out of scope (`catalog.md` §1): any value is refused.
    pub permissions: Option<Value>,
}

impl CreateApiKeyIn {
    pub fn into_domain(self) -> Result<NewApiKey, DomainError> {
        if self.permissions.is_some() {
            return Err(DomainError::field(
                "permissions",
                "restricted keys are not supported; omit permissions for a full-access key",
            ));
        }
        let Some(name) = self.name else {
            return Err(DomainError::field("name", "name is required"));
        };
        NewApiKey::parse(&name, self.expires_in_days)
    }
}

/// For fields where `null` means "clear" and absence means "leave alone": absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(v))`.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFeatureIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub code: Option<String>,
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false)]
    pub feature_type: Option<String>,
    pub description: Option<String>,
    pub unit_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFeatureIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub unit_name: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub code: Option<String>,
    pub description: Option<String>,
    pub consumption_model: Option<String>,
    pub is_public: Option<bool>,
    pub is_free: Option<bool>,
    pub block_on_exhaustion: Option<bool>,
    pub plan_group_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePlanIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Option<Metadata>>,
    pub is_public: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanGroupIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_public: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePlanGroupIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    pub is_public: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddPlanToGroupIn {
    /// `pln_…` or the plan's code.
    #[schema(required = true, nullable = false)]
    pub plan_id: Option<String>,
    pub sort_order: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReorderPlansIn {
    /// Every plan of the group, once each, in the new order.
    #[schema(required = true, nullable = false)]
    pub plan_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAddonIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    pub description: Option<String>,
    /// US cents per period.
    #[schema(required = true, nullable = false)]
    pub base_price: Option<i64>,
    /// `ftr_…` or the feature's code.
    #[schema(required = true, nullable = false)]
    pub feature_id: Option<String>,
    /// `boolean`, `metered`, `credits` or `balance`.
    #[schema(required = true, nullable = false)]
    pub consumption_model: Option<String>,
    pub included_units: Option<i64>,
    /// Rate scale (10 000 = $1).
    pub overage_rate: Option<i64>,
    pub credit_cost: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAddonIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    pub base_price: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub included_units: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub overage_rate: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivateAddonIn {
    /// `adn_…` or the add-on's slug.
    #[schema(required = true, nullable = false)]
    pub addon_id: Option<String>,
}

/// `POST /payouts/bank-accounts`, and the bank of a verification (`payments.md` §9).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankAccountIn {
    pub account_number: Option<String>,
    pub account_holder_name: Option<String>,
    pub routing_number: Option<String>,
    /// `checking` or `savings`.
    pub account_type: Option<String>,
    pub set_default: Option<bool>,
}

/// `POST /portal/request-access` and `/portal/sessions`: exactly one of `email` and
/// `customerId`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalAccessIn {
    pub email: Option<String>,
    /// `cus_…` or the customer's externalId.
    pub customer_id: Option<String>,
    pub return_url: Option<String>,
}

/// `POST /subscriptions/{id}/payment-method/update`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodUpdateIn {
    /// Where the page sends the customer once the card is saved.
    pub success_url: Option<String>,
}

/// `POST /payouts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutIn {
    /// US cents, at least 1000.
    pub amount: Option<i64>,
    pub description: Option<String>,
}

/// `POST /payouts/verification` (2026-07-11): the payout account's details.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutVerificationIn {
    pub email: Option<String>,
    /// `individual` or `company`.
    pub business_type: Option<String>,
    pub business_url: Option<String>,
    pub document_url: Option<String>,
    pub bank: Option<BankAccountIn>,
    #[schema(value_type = Option<Object>)]
    pub individual: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub company: Option<serde_json::Value>,
}

/// `POST /payments` and `POST /payments/charge` (`payments.md` §1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentIn {
    /// US cents, 50 to 99 999 999.
    pub amount: Option<i64>,
    /// `usd`.
    pub currency: Option<String>,
    pub description: Option<String>,
    /// `cus_…` or the customer's externalId.
    pub customer_id: Option<String>,
    pub success_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<tally_domain::customer::Metadata>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditPackIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub credits: Option<i64>,
    /// US cents.
    pub price: Option<i64>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseCreditsIn {
    #[schema(required = true, nullable = false)]
    pub credit_pack_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCreditIn {
    /// Minor units of `currency`, 1 to 10¹¹.
    #[schema(required = true, nullable = false)]
    pub amount: Option<i64>,
    #[schema(required = true, nullable = false)]
    pub currency: Option<String>,
    #[schema(required = true, nullable = false)]
    pub reason: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactivateIn {
    /// Refused: an offer is applied with `PUT /subscriptions/{id}/offer` (`commerce.md` §4.5).
    pub offer_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PauseIn {
    /// `immediate` or `period_end`.
    #[schema(required = true, nullable = false)]
    pub mode: Option<String>,
    /// Required key: days from when the pause takes effect, or null until resumed.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(required = true, value_type = Option<i64>)]
    pub duration_days: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePauseIn {
    /// Required key: days from when the pause takes effect, or null until resumed.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(required = true, value_type = Option<i64>)]
    pub duration_days: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePlanIn {
    /// `pln_…` or the plan's code.
    pub new_plan_id: Option<String>,
    pub new_billing_interval: Option<String>,
    /// Accepted and ignored: Tally settles a change without a hosted checkout.
    pub success_url: Option<String>,
    /// Refused: offers enter a subscription only when it is created.
    pub offer_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewChangeIn {
    #[schema(required = true, nullable = false)]
    pub plan_id: Option<String>,
    pub billing_interval: Option<String>,
    /// Refused, as for a change.
    pub offer_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisibilityIn {
    #[schema(required = true, nullable = false)]
    pub is_public: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceIn {
    pub billing_interval: Option<String>,
    pub price: Option<i64>,
    pub trial_days: Option<i64>,
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub included_balance: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub included_credits: Option<Option<i64>>,
    pub intro_offer: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
    /// A price's amount per market (direct versions; `commerce.md` §7).
    pub market_prices: Option<Vec<MarketPriceIn>>,
    pub inherits_from_price_id: Option<String>,
}

/// One market entry of a price: the market (`marketGroupId`), its currency and amount.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketPriceIn {
    #[schema(required = true, nullable = false)]
    pub market_group_id: Option<String>,
    #[schema(required = true, nullable = false)]
    pub currency: Option<String>,
    #[schema(required = true, nullable = false)]
    pub price: Option<i64>,
}

impl MarketPriceIn {
    /// The entries as the app takes them; a missing field is named with its index.
    pub fn all(entries: &[MarketPriceIn]) -> Result<Vec<(String, String, i64)>, DomainError> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let missing = |f: &str| {
                    DomainError::field(format!("marketPrices.{i}.{f}"), format!("{f} is required"))
                };
                Ok((
                    e.market_group_id
                        .clone()
                        .ok_or_else(|| missing("marketGroupId"))?,
                    e.currency.clone().ok_or_else(|| missing("currency"))?,
                    e.price.ok_or_else(|| missing("price"))?,
                ))
            })
            .collect()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverageIn {
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub unit_price: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanFeatureIn {
    pub feature_id: Option<String>,
    pub enabled: Option<bool>,
    pub included_amount: Option<i64>,
    pub unlimited: Option<bool>,
    pub overage: Option<OverageIn>,
    #[serde(default, deserialize_with = "nullable")]
    pub credits_per_unit: Option<Option<i64>>,
    pub pricing_mode: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub margin: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSubscriptionIn {
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    pub plan_id: Option<String>,
    pub plan_code: Option<String>,
    pub billing_interval: Option<String>,
    pub price_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub initial_seats: Option<serde_json::Map<String, Value>>,
    pub skip_trial: Option<bool>,
    pub custom_trial_days: Option<i64>,
    pub name: Option<String>,
    pub start_date: Option<String>,
    /// Accepted and ignored: Tally has no checkout (`catalog.md` §5.2).
    pub success_url: Option<String>,
    pub provider: Option<Value>,
    pub intro_offer: Option<Value>,
    pub promo_code: Option<Value>,
    pub offer_id: Option<Value>,
    pub card_promotion_id: Option<Value>,
    pub prepaid_periods: Option<i64>,
    pub cancel_at_period_end: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelSubscriptionIn {
    pub reason: Option<String>,
    pub immediate: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvanceClockIn {
    pub advance_days: Option<i64>,
    pub frozen_time: Option<String>,
}

/// Add, set and remove (`seats.md` §3): `count` stays raw so its rules can name it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatChangeIn {
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    #[schema(required = true, nullable = false)]
    pub feature_code: Option<String>,
    pub count: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkSeatsIn {
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    #[schema(required = true, nullable = false)]
    pub seats: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookIn {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: Option<Option<String>>,
}

/// A body whose fields are all ignored; it still has to be a JSON object when sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NoFieldsIn {}

/// `POST /invoices`: an adjustment (`commerce.md` §8.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentIn {
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    /// Minor units, signed: a negative amount is a credit note.
    #[schema(required = true, nullable = false)]
    pub amount: Option<i64>,
    #[schema(required = true, nullable = false)]
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceStatusIn {
    #[schema(required = true, nullable = false)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustBalanceIn {
    #[schema(required = true, nullable = false)]
    pub amount: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopUpIn {
    #[schema(required = true, nullable = false)]
    pub amount: Option<i64>,
}

/// One `{property, value}` of a usage event.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UsagePropertyIn {
    #[schema(required = true, nullable = false)]
    pub property: Option<String>,
    #[schema(value_type = String, required = true)]
    pub value: Option<Value>,
}

/// `POST /usage/events` (`usage.md` §3.2): the direct and the legacy vocabulary are both
/// accepted in every version. Numbers stay raw so `5.0` can count as the integer it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackUsageIn {
    pub feature_code: Option<String>,
    /// Legacy spelling of `featureCode`.
    pub feature: Option<String>,
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub value: Option<Value>,
    pub event_id: Option<String>,
    /// Legacy spelling of `eventId`.
    pub idempotency_key: Option<String>,
    pub timestamp: Option<String>,
    pub properties: Option<Vec<UsagePropertyIn>>,
    /// The AI token form; Tally prices no models, so it is refused (`pricing_mode_mismatch`).
    pub model: Option<Value>,
    #[schema(value_type = Option<i64>)]
    pub input_tokens: Option<Value>,
    #[schema(value_type = Option<i64>)]
    pub output_tokens: Option<Value>,
    #[schema(value_type = Option<i64>)]
    pub cache_read_tokens: Option<Value>,
    #[schema(value_type = Option<i64>)]
    pub cache_write_tokens: Option<Value>,
}

/// `POST /usage/check`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckUsageIn {
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    pub feature_code: Option<String>,
    pub feature: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub quantity: Option<Value>,
}

/// `PUT /usage`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetUsageIn {
    #[schema(required = true, nullable = false)]
    pub customer_id: Option<String>,
    pub feature_code: Option<String>,
    pub feature: Option<String>,
    #[schema(value_type = i64, required = true)]
    pub value: Option<Value>,
    pub reason: Option<String>,
    /// Deduplicated like a track's; `idempotencyKey` is the legacy spelling.
    pub event_id: Option<String>,
    pub idempotency_key: Option<String>,
}

/// `/usage/quota` writes: the customer by `customerId` or `externalId` (one of them), the
/// feature, and `count` (raw, so its rules can name it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaChangeIn {
    pub customer_id: Option<String>,
    pub external_id: Option<String>,
    #[schema(required = true, nullable = false)]
    pub feature_code: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub count: Option<Value>,
    /// Legacy body key, deduplicated like a track's `eventId` (`usage.md` §6).
    pub idempotency_key: Option<String>,
}

/// A `{currency, amount}` of an offer phase.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfferAmountIn {
    pub currency: Option<String>,
    pub amount: Option<i64>,
}

/// One phase of an offer (`commerce.md` §4.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferPhaseIn {
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false)]
    pub phase_type: Option<String>,
    pub duration_days: Option<i64>,
    pub duration_cycles: Option<i64>,
    pub duration_interval: Option<String>,
    pub percentage: Option<i64>,
    pub amounts: Option<Vec<OfferAmountIn>>,
    pub prices: Option<Vec<OfferAmountIn>>,
}

impl OfferPhaseIn {
    pub fn fields(&self) -> tally_domain::offers::PhaseFields {
        let list = |items: &Option<Vec<OfferAmountIn>>| {
            items.as_ref().map(|items| {
                items
                    .iter()
                    .map(|a| (a.currency.clone(), a.amount))
                    .collect()
            })
        };
        tally_domain::offers::PhaseFields {
            phase_type: self.phase_type.clone(),
            duration_days: self.duration_days,
            duration_cycles: self.duration_cycles,
            duration_interval: self.duration_interval.clone(),
            percentage: self.percentage,
            amounts: list(&self.amounts),
            prices: list(&self.prices),
        }
    }
}

/// Create or update (full replacement of `name` and `phases`) an offer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub phases: Option<Vec<OfferPhaseIn>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub active: Option<bool>,
}

/// Create a promo code: `offerId` (direct versions) or the legacy terms.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromoCodeIn {
    #[schema(required = true, nullable = false)]
    pub code: Option<String>,
    pub offer_id: Option<String>,
    pub discount_type: Option<String>,
    pub discount_value: Option<i64>,
    pub duration_cycles: Option<i64>,
    pub billing_interval: Option<String>,
    pub max_redemptions: Option<i64>,
    pub expires_at: Option<String>,
    pub plan_ids: Option<Vec<String>>,
}

/// Change a promo code; an explicit `null` clears `billingInterval`, `maxRedemptions` or
/// `expiresAt`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromoCodePatchIn {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub billing_interval: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub max_redemptions: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Option<String>>,
    pub active: Option<bool>,
    pub plan_ids: Option<Vec<String>>,
}

/// `PUT /subscriptions/{id}/offer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyOfferIn {
    #[schema(required = true, nullable = false)]
    pub offer_id: Option<String>,
    pub expires_at: Option<String>,
}

/// Create or update (full replacement of `name` and `countryCodes`) a market.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketIn {
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub country_codes: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

/// One manual price entry of `PUT /plans/{id}/regional`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionalPriceIn {
    pub price_id: Option<String>,
    pub currency: Option<String>,
    pub price: Option<i64>,
    pub included_balance: Option<i64>,
}

/// One manual overage entry of `PUT /plans/{id}/regional`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionalFeatureIn {
    pub feature_id: Option<String>,
    pub overage_unit_price: Option<i64>,
}

/// `PUT /plans/{id}/regional`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionalPricingIn {
    #[schema(required = true, nullable = false)]
    pub currency: Option<String>,
    #[schema(required = true, nullable = false)]
    pub exchange_rate: Option<f64>,
    pub prices: Option<Vec<RegionalPriceIn>>,
    pub features: Option<Vec<RegionalFeatureIn>>,
    /// Refused: currency-specific offer terms live in offers (`commerce.md` §4.6).
    pub intro_offers: Option<Value>,
}

/// `PUT /plans/{id}/prices/{priceId}/regional`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceOverridesIn {
    #[schema(required = true, nullable = false)]
    pub overrides: Option<Vec<RegionalPriceIn>>,
}

/// Create or update a plan grant (`commerce.md` §6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanGrantIn {
    /// Create only.
    pub subscription_id: Option<String>,
    /// Create only.
    pub plan_id: Option<String>,
    #[schema(required = true, nullable = false)]
    pub reason: Option<String>,
    /// `cycles`, `until_date` or `until_revoked`.
    #[schema(required = true, nullable = false)]
    pub duration: Option<String>,
    pub duration_cycles: Option<i64>,
    pub expires_at: Option<String>,
}

/// Revoke a plan grant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeGrantIn {
    #[schema(required = true, nullable = false)]
    pub reason: Option<String>,
}
