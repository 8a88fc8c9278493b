//! The views' JSON Schemas, for the OpenAPI documents `tally-api` assembles: one name per
//! answer shape, and the type that renders it in each generation (legacy is 2026-07-11, direct
//! the latest version). Derived from the view types themselves, so they cannot drift.

use crate::{
    addons, balance, credit_packs, customer_credits, invoices, markets, offers, payments,
    plan_changes, plan_grants, plan_groups, usage, v2026_07_11 as legacy, v2026_08_27 as direct,
    webhooks,
};
use std::borrow::Cow;
use tally_domain::Generation;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// A field that is always `null` in Tally (a feature it does not offer, kept for the SDKs).
pub struct Null;

impl PartialSchema for Null {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for Null {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Null")
    }
}

/// Named schemas, in the order they were added (a name may repeat; the first one wins).
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// Adds `T`'s schema under `name`, and every schema it refers to.
fn add<T: ToSchema>(name: &str, schemas: &mut Schemas) {
    schemas.push((name.to_owned(), T::schema()));
    T::schemas(schemas);
}

/// Adds `T` and what it refers to under their own names (request bodies: one shape for all
/// versions); returns the name to refer to it by.
pub fn add_named<T: ToSchema>(schemas: &mut Schemas) -> String {
    let name = T::name().into_owned();
    add::<T>(&name, schemas);
    name
}

/// Every answer shape of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    ApiKey,
    CreatedApiKey,
    Customer,
    CustomerBatch,
    Deleted,
    Feature,
    Plan,
    PlanFeature,
    RemovedPlanFeature,
    PlanPrice,
    PlanVisibility,
    DefaultPrice,
    PlanGroup,
    PlanGroupDetail,
    AddedPlanToGroup,
    RemovedPlanFromGroup,
    ReorderedPlans,
    PlanChange,
    PreviewChange,
    Addon,
    ActiveAddon,
    SubscriptionAddon,
    DeletedSubscriptionAddon,
    SubscriptionResume,
    CustomerCredit,
    CustomerCreditRevocation,
    CreditPack,
    CreditGrant,
    Offer,
    DeletedOffer,
    PromoCode,
    Market,
    PlanGrant,
    RegionalResult,
    PriceOverrides,
    DeletedOverrides,
    ReactivatedSubscription,
    Subscription,
    CreatedSubscription,
    SubscriptionListItem,
    CanceledSubscription,
    UncanceledSubscription,
    SeatEvent,
    BulkSeatEvent,
    SeatBalance,
    SeatBalances,
    BalanceAdjustment,
    BalanceTopUp,
    Invoice,
    InvoiceListItem,
    InvoiceStatus,
    SentInvoice,
    InvoiceDownload,
    Webhook,
    WebhookTest,
    WebhookDelivery,
    TestClock,
    TestClockRun,
    TestClockBilling,
    UsageEvent,
    UsageAdjustment,
    UsageCheck,
    FeatureAccess,
    QuotaEvent,
    Quota,
    Payment,
    Transaction,
    Refund,
    PayoutBankAccount,
    Payout,
    PayoutVerification,
    PortalAccess,
    PaymentMethodUpdate,
    RecoveryLink,
    TransactionRetry,
    ClaimLink,
}

impl View {
    /// The schema's name in the documents.
    pub fn name(self) -> String {
        format!("{self:?}")
    }

    /// Adds this view's schema in `generation`, under `name()`, and what it refers to.
    pub fn add_schema(self, generation: Generation, schemas: &mut Schemas) {
        use Generation::{Direct, Legacy};
        let name = self.name();
        let schemas_of = &mut *schemas;
        match (self, generation) {
            (View::ApiKey, Legacy) => add::<legacy::ApiKeyOut>(&name, schemas_of),
            (View::ApiKey, Direct) => add::<direct::ApiKeyOut>(&name, schemas_of),
            (View::CreatedApiKey, Legacy) => add::<legacy::CreatedApiKeyOut>(&name, schemas_of),
            (View::CreatedApiKey, Direct) => add::<direct::CreatedApiKeyOut>(&name, schemas_of),
            (View::Customer, Legacy) => add::<legacy::CustomerOut>(&name, schemas_of),
            (View::Customer, Direct) => add::<direct::CustomerOut>(&name, schemas_of),
            (View::CustomerBatch, Legacy) => add::<legacy::CustomerBatchOut>(&name, schemas_of),
            (View::CustomerBatch, Direct) => add::<direct::CustomerBatchOut>(&name, schemas_of),
            (View::Deleted, Legacy) => add::<legacy::DeletedOut>(&name, schemas_of),
            (View::Deleted, Direct) => add::<direct::DeletedOut>(&name, schemas_of),
            (View::Feature, _) => add::<legacy::FeatureOut>(&name, schemas_of),
            // A generic view names its parameter's schema without adding it.
            (View::Plan, Legacy) => {
                add::<legacy::PlanOut<legacy::PlanPriceEntryOut>>(&name, schemas_of);
                add_named::<legacy::PlanPriceEntryOut>(schemas_of);
            }
            (View::Plan, Direct) => {
                add::<direct::PlanOut<direct::PlanPriceEntryOut>>(&name, schemas_of);
                add_named::<direct::PlanPriceEntryOut>(schemas_of);
            }
            (View::PlanFeature, _) => add::<legacy::PlanFeatureOut>(&name, schemas_of),
            (View::RemovedPlanFeature, _) => {
                add::<legacy::RemovedPlanFeatureOut>(&name, schemas_of)
            }
            (View::PlanPrice, Legacy) => add::<legacy::PlanPriceOut>(&name, schemas_of),
            (View::PlanPrice, Direct) => add::<direct::PlanPriceOut>(&name, schemas_of),
            (View::PlanVisibility, Legacy) => add::<legacy::PlanVisibilityOut>(&name, schemas_of),
            (View::PlanVisibility, Direct) => View::Plan.add_as(&name, generation, schemas_of),
            (View::DefaultPrice, Legacy) => add::<legacy::DefaultPriceOut>(&name, schemas_of),
            (View::DefaultPrice, Direct) => View::PlanPrice.add_as(&name, generation, schemas_of),
            (View::PlanGroup, _) => add::<plan_groups::PlanGroupOut>(&name, schemas_of),
            (View::PlanGroupDetail, _) => add::<plan_groups::PlanGroupDetailOut>(&name, schemas_of),
            (View::AddedPlanToGroup, _) => add::<plan_groups::AddedPlanOut>(&name, schemas_of),
            (View::RemovedPlanFromGroup, _) => {
                add::<plan_groups::RemovedPlanOut>(&name, schemas_of)
            }
            (View::ReorderedPlans, _) => add::<plan_groups::ReorderedPlansOut>(&name, schemas_of),
            (View::PlanChange, _) => add::<plan_changes::PlanChangeOut>(&name, schemas_of),
            (View::PreviewChange, _) => add::<plan_changes::PreviewChangeOut>(&name, schemas_of),
            (View::Addon, _) => add::<addons::AddonOut>(&name, schemas_of),
            (View::ActiveAddon, _) => add::<addons::ActiveAddonOut>(&name, schemas_of),
            (View::SubscriptionAddon, _) => add::<addons::SubscriptionAddonOut>(&name, schemas_of),
            (View::SubscriptionResume, _) => {
                add::<direct::SubscriptionResumeOut>(&name, schemas_of)
            }
            (View::CreditPack, _) => add::<credit_packs::CreditPackOut>(&name, schemas_of),
            (View::Payment, _) => add::<payments::PaymentOut>(&name, schemas_of),
            (View::Transaction, _) => add::<payments::TransactionOut>(&name, schemas_of),
            (View::Refund, Legacy) => add::<payments::TransactionRefundOut>(&name, schemas_of),
            (View::Refund, Direct) => add::<payments::RefundOut>(&name, schemas_of),
            (View::PayoutBankAccount, _) => {
                add::<payments::PayoutBankAccountOut>(&name, schemas_of)
            }
            (View::Payout, _) => add::<payments::PayoutOut>(&name, schemas_of),
            (View::PortalAccess, _) => add::<payments::PortalAccessOut>(&name, schemas_of),
            (View::RecoveryLink, _) => add::<payments::RecoveryLinkOut>(&name, schemas_of),
            (View::ClaimLink, _) => add::<payments::ClaimLinkOut>(&name, schemas_of),
            (View::TransactionRetry, Legacy) => {
                add::<payments::TransactionRetryLegacyOut>(&name, schemas_of)
            }
            (View::TransactionRetry, Direct) => {
                add::<payments::TransactionRetryOut>(&name, schemas_of)
            }
            (View::PaymentMethodUpdate, _) => {
                add::<payments::PaymentMethodUpdateOut>(&name, schemas_of)
            }
            (View::PayoutVerification, _) => {
                add::<payments::PayoutVerificationOut>(&name, schemas_of)
            }
            (View::CreditGrant, _) => add::<credit_packs::CreditGrantOut>(&name, schemas_of),
            (View::Offer, _) => add::<offers::OfferOut>(&name, schemas_of),
            (View::DeletedOffer, _) => add::<offers::DeletedOfferOut>(&name, schemas_of),
            (View::PromoCode, _) => add::<offers::PromoCodeOut>(&name, schemas_of),
            (View::Market, _) => add::<markets::MarketOut>(&name, schemas_of),
            (View::PlanGrant, _) => add::<plan_grants::PlanGrantOut>(&name, schemas_of),
            (View::RegionalResult, _) => add::<markets::RegionalResultOut>(&name, schemas_of),
            (View::PriceOverrides, _) => add::<markets::PriceOverridesOut>(&name, schemas_of),
            (View::DeletedOverrides, _) => add::<markets::DeletedOverridesOut>(&name, schemas_of),
            (View::CustomerCredit, _) => {
                add::<customer_credits::CustomerCreditOut>(&name, schemas_of)
            }
            (View::CustomerCreditRevocation, _) => {
                add::<customer_credits::CustomerCreditRevocationOut>(&name, schemas_of)
            }
            (View::ReactivatedSubscription, Legacy) => {
                add::<legacy::ReactivatedOut>(&name, schemas_of)
            }
            (View::ReactivatedSubscription, Direct) => {
                add::<direct::ReactivationOut>(&name, schemas_of)
            }
            (View::DeletedSubscriptionAddon, _) => {
                add::<addons::DeletedSubscriptionAddonOut>(&name, schemas_of)
            }
            (View::Subscription, Legacy) => add::<legacy::SubscriptionOut>(&name, schemas_of),
            (View::Subscription, Direct) => add::<direct::SubscriptionOut>(&name, schemas_of),
            (View::CreatedSubscription, Legacy) => {
                View::Subscription.add_as(&name, generation, schemas_of)
            }
            (View::CreatedSubscription, Direct) => {
                add::<direct::CreatedSubscriptionOut>(&name, schemas_of)
            }
            (View::SubscriptionListItem, Legacy) => {
                View::Subscription.add_as(&name, generation, schemas_of)
            }
            (View::SubscriptionListItem, Direct) => {
                add::<direct::SubscriptionSummaryOut>(&name, schemas_of)
            }
            (View::CanceledSubscription, Legacy) => {
                add::<legacy::CanceledSubscriptionOut>(&name, schemas_of)
            }
            (View::UncanceledSubscription, Legacy) => {
                add::<legacy::UncanceledSubscriptionOut>(&name, schemas_of)
            }
            (View::CanceledSubscription | View::UncanceledSubscription, Direct) => {
                View::Subscription.add_as(&name, generation, schemas_of)
            }
            (View::SeatEvent | View::BulkSeatEvent, _) => {
                add::<legacy::SeatEventOut>(&name, schemas_of)
            }
            (View::SeatBalance, _) => add::<legacy::SeatBalanceOut>(&name, schemas_of),
            (View::SeatBalances, Legacy) => add::<legacy::SeatBalancesOut>(&name, schemas_of),
            (View::SeatBalances, Direct) => add::<direct::SeatBalancesOut>(&name, schemas_of),
            (View::BalanceAdjustment, _) => add::<balance::AdjustmentOut>(&name, schemas_of),
            (View::BalanceTopUp, _) => add::<balance::TopUpOut>(&name, schemas_of),
            (View::Invoice | View::InvoiceListItem, _) => {
                add::<invoices::InvoiceOut>(&name, schemas_of)
            }
            (View::InvoiceStatus, Legacy) => add::<invoices::InvoiceStatusOut>(&name, schemas_of),
            (View::InvoiceStatus, Direct) => View::Invoice.add_as(&name, generation, schemas_of),
            (View::SentInvoice, _) => add::<invoices::SentInvoiceOut>(&name, schemas_of),
            (View::InvoiceDownload, _) => add::<invoices::InvoiceDownloadOut>(&name, schemas_of),
            (View::Webhook, _) => add::<webhooks::EndpointOut>(&name, schemas_of),
            (View::WebhookTest, _) => add::<webhooks::TestSendOut>(&name, schemas_of),
            (View::WebhookDelivery, _) => add::<webhooks::DeliveryOut>(&name, schemas_of),
            (View::TestClock, Legacy) => add::<legacy::TestClockOut>(&name, schemas_of),
            (View::TestClock, Direct) => add::<direct::TestClockOut>(&name, schemas_of),
            (View::TestClockRun, _) => add::<legacy::TestClockRunOut>(&name, schemas_of),
            (View::TestClockBilling, _) => add::<legacy::TestClockBillingOut>(&name, schemas_of),
            (View::UsageEvent, Legacy) => add::<usage::LegacyUsageEventOut>(&name, schemas_of),
            (View::UsageEvent, Direct) => add::<usage::UsageEventOut>(&name, schemas_of),
            (View::UsageAdjustment, _) => add::<usage::UsageAdjustmentOut>(&name, schemas_of),
            (View::UsageCheck, Legacy) => add::<usage::LegacyUsageCheckOut>(&name, schemas_of),
            (View::UsageCheck, Direct) => add::<usage::UsageCheckOut>(&name, schemas_of),
            (View::FeatureAccess, Legacy) => {
                add::<usage::LegacyFeatureAccessOut>(&name, schemas_of)
            }
            (View::FeatureAccess, Direct) => add::<usage::FeatureAccessOut>(&name, schemas_of),
            (View::QuotaEvent, _) => add::<usage::QuotaEventOut>(&name, schemas_of),
            (View::Quota, _) => add::<usage::QuotaOut>(&name, schemas_of),
        }
    }

    /// Adds this view's schema under another name: answers that are the same shape as another
    /// view in one generation.
    fn add_as(self, name: &str, generation: Generation, schemas: &mut Schemas) {
        let mut own = Schemas::new();
        self.add_schema(generation, &mut own);
        let mut own = own.into_iter();
        if let Some((_, schema)) = own.next() {
            schemas.push((name.to_owned(), schema));
        }
        schemas.extend(own);
    }
}
