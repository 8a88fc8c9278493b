//! The route table, and the few pieces every handler shares: the write path with idempotency,
//! and list rendering.

mod addons;
mod api_keys;
mod balance;
mod credit_packs;
mod customer_credits;
mod customers;
mod features;
mod invoices;
mod markets;
mod offers;
mod pauses;
mod payments;
mod payouts;
mod plan_changes;
mod plan_grants;
mod plan_groups;
pub(crate) mod plans;
mod recovery;
mod seats;
mod subscriptions;
mod test_clock;
mod usage;
mod webhooks;

use crate::AppState;
use crate::endpoint::{Endpoint, ParamType, QueryParam, Shape};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiQuery, Ctx, IdempotencyKey, encode_cursor};
use crate::reply::{self, Reply};
use axum::Router;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{Method, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use tally_app::{AppError, Command};
use tally_domain::page::Page;
use tally_domain::{ApiVersion, Generation, Timestamp};
use tally_store::StoredResponse;
use tally_wire::requests::{
    ActivateAddonIn, AddPlanToGroupIn, AdjustBalanceIn, AdjustmentIn, AdvanceClockIn, ApplyOfferIn,
    BankAccountIn, BulkSeatsIn, CancelSubscriptionIn, ChangePlanIn, CheckUsageIn, CreateAddonIn,
    CreateApiKeyIn, CreateCustomerIn, CreateFeatureIn, CreatePlanGroupIn, CreatePlanIn,
    CreateSubscriptionIn, CreditPackIn, CustomerBatchIn, CustomerCreditIn, InvoiceStatusIn,
    MarketIn, NoFieldsIn, OfferIn, PauseIn, PaymentIn, PaymentMethodUpdateIn, PayoutIn,
    PayoutVerificationIn, PlanFeatureIn, PlanGrantIn, PortalAccessIn, PreviewChangeIn, PriceIn,
    PriceOverridesIn, PromoCodeIn, PromoCodePatchIn, PurchaseCreditsIn, QuotaChangeIn,
    ReactivateIn, RegionalPricingIn, ReorderPlansIn, RevokeGrantIn, SeatChangeIn, SetUsageIn,
    TopUpIn, TrackUsageIn, UpdateAddonIn, UpdateCustomerIn, UpdateFeatureIn, UpdatePauseIn,
    UpdatePlanGroupIn, UpdatePlanIn, VisibilityIn, WebhookIn,
};
use tally_wire::schema::View;
use tower_http::catch_panic::CatchPanicLayer;

/// Every `/api/v1` endpoint: the router and the OpenAPI documents are both built from this
/// list (`endpoint.rs`).
pub fn endpoints() -> Vec<Endpoint> {
    use Shape::{Array, Catalog, Object, Page};
    use View as V;
    let direct = Some(Generation::Direct);
    vec![
        // API keys (`catalog.md` §1).
        get(
            "/api/v1/api-keys",
            api_keys::list,
            "listApiKeys",
            "List API keys",
        )
        .paged()
        .answers(Page(V::ApiKey)),
        post(
            "/api/v1/api-keys",
            api_keys::create,
            "createApiKey",
            "Create an API key",
        )
        .body::<CreateApiKeyIn>()
        .answers(Object(V::CreatedApiKey)),
        delete(
            "/api/v1/api-keys/{id}",
            api_keys::delete,
            "deleteApiKey",
            "Revoke an API key",
        )
        .answers(Object(V::Deleted)),
        // Customers (`catalog.md` §2).
        get(
            "/api/v1/customers",
            customers::list,
            "listCustomers",
            "List customers",
        )
        .param(
            "externalId",
            false,
            "Only the customer with this externalId.",
        )
        .paged()
        .answers(Page(V::Customer)),
        post(
            "/api/v1/customers",
            customers::create,
            "createCustomer",
            "Create a customer",
        )
        .body::<CreateCustomerIn>()
        .answers(Object(V::Customer)),
        post(
            "/api/v1/customers/batch",
            customers::create_batch,
            "createCustomers",
            "Create up to 100 customers; each item succeeds or fails on its own",
        )
        .body::<CustomerBatchIn>()
        .answers(Object(V::CustomerBatch)),
        get(
            "/api/v1/customers/{id}",
            customers::get,
            "getCustomer",
            "Get a customer by id or externalId",
        )
        .answers(Object(V::Customer)),
        put(
            "/api/v1/customers/{id}",
            customers::update,
            "updateCustomer",
            "Update a customer (legacy spelling)",
        )
        .body::<UpdateCustomerIn>()
        .answers(Object(V::Customer)),
        patch(
            "/api/v1/customers/{id}",
            customers::update,
            "patchCustomer",
            "Update a customer",
        )
        .body::<UpdateCustomerIn>()
        .answers(Object(V::Customer)),
        // Features (`catalog.md` §3).
        get(
            "/api/v1/features",
            features::list,
            "listFeatures",
            "List features",
        )
        .paged()
        .answers(Catalog(V::Feature)),
        post(
            "/api/v1/features",
            features::create,
            "createFeature",
            "Create a feature",
        )
        .body::<CreateFeatureIn>()
        .answers(Object(V::Feature)),
        post(
            "/api/v1/features/manage",
            features::create,
            "createFeatureManage",
            "Create a feature (legacy path)",
        )
        .body::<CreateFeatureIn>()
        .answers(Object(V::Feature)),
        get(
            "/api/v1/features/{code}",
            features::get,
            "getFeature",
            "Get a feature by code or id",
        )
        .answers(Object(V::Feature)),
        patch(
            "/api/v1/features/{code}",
            features::update,
            "updateFeature",
            "Update a feature",
        )
        .body::<UpdateFeatureIn>()
        .answers(Object(V::Feature)),
        delete(
            "/api/v1/features/{code}",
            features::delete,
            "deleteFeature",
            "Delete a feature",
        )
        .answers(Object(V::Deleted)),
        put(
            "/api/v1/features/{code}/manage",
            features::update,
            "updateFeatureManage",
            "Update a feature (legacy path)",
        )
        .body::<UpdateFeatureIn>()
        .answers(Object(V::Feature)),
        delete(
            "/api/v1/features/{code}/manage",
            features::delete,
            "deleteFeatureManage",
            "Delete a feature (legacy path)",
        )
        .answers(Object(V::Deleted)),
        // Plans (`catalog.md` §4).
        get("/api/v1/plans", plans::list, "listPlans", "List plans")
            .query(&[QueryParam {
                name: "includePrivate",
                kind: ParamType::Boolean,
                required: false,
                description: "Also list plans that are not public.",
            }])
            .paged()
            .answers(Catalog(V::Plan)),
        post(
            "/api/v1/plans",
            plans::create,
            "createPlan",
            "Create a plan",
        )
        .body::<CreatePlanIn>()
        .answers(Object(V::Plan)),
        post(
            "/api/v1/plans/manage",
            plans::create,
            "createPlanManage",
            "Create a plan (legacy path)",
        )
        .body::<CreatePlanIn>()
        .answers(Object(V::Plan)),
        get(
            "/api/v1/plans/{id}",
            plans::get,
            "getPlan",
            "Get a plan by id or code",
        )
        .answers(Object(V::Plan)),
        patch(
            "/api/v1/plans/{id}",
            plans::update,
            "updatePlan",
            "Update a plan",
        )
        .body::<UpdatePlanIn>()
        .answers(Object(V::Plan)),
        delete(
            "/api/v1/plans/{id}",
            plans::delete,
            "deletePlan",
            "Delete a plan",
        )
        .answers(Object(V::Deleted)),
        put(
            "/api/v1/plans/{id}/manage",
            plans::update,
            "updatePlanManage",
            "Update a plan (legacy path)",
        )
        .body::<UpdatePlanIn>()
        .answers(Object(V::Plan)),
        delete(
            "/api/v1/plans/{id}/manage",
            plans::delete,
            "deletePlanManage",
            "Delete a plan (legacy path)",
        )
        .answers(Object(V::Deleted)),
        put(
            "/api/v1/plans/{id}/visibility",
            plans::set_visibility,
            "setPlanVisibility",
            "Make a plan public or private",
        )
        .body::<VisibilityIn>()
        .answers(Object(V::PlanVisibility)),
        post(
            "/api/v1/plans/{id}/features",
            plans::add_feature,
            "addPlanFeature",
            "Attach a feature to a plan",
        )
        .body::<PlanFeatureIn>()
        .answers(Object(V::PlanFeature)),
        put(
            "/api/v1/plans/{id}/features/{feature}",
            plans::update_feature,
            "updatePlanFeature",
            "Change a plan's feature (legacy spelling)",
        )
        .body::<PlanFeatureIn>()
        .answers(Object(V::PlanFeature)),
        patch(
            "/api/v1/plans/{id}/features/{feature}",
            plans::update_feature,
            "patchPlanFeature",
            "Change a plan's feature",
        )
        .body::<PlanFeatureIn>()
        .answers(Object(V::PlanFeature)),
        delete(
            "/api/v1/plans/{id}/features/{feature}",
            plans::remove_feature,
            "removePlanFeature",
            "Detach a feature from a plan",
        )
        .answers(Object(V::RemovedPlanFeature)),
        post(
            "/api/v1/plans/{id}/prices",
            plans::add_price,
            "addPlanPrice",
            "Add a price to a plan",
        )
        .body::<PriceIn>()
        .answers(Object(V::PlanPrice)),
        put(
            "/api/v1/plans/{id}/prices/{price}",
            plans::update_price,
            "updatePlanPrice",
            "Change a price (legacy spelling)",
        )
        .body::<PriceIn>()
        .answers(Object(V::PlanPrice)),
        patch(
            "/api/v1/plans/{id}/prices/{price}",
            plans::update_price,
            "patchPlanPrice",
            "Change a price",
        )
        .body::<PriceIn>()
        .answers(Object(V::PlanPrice)),
        delete(
            "/api/v1/plans/{id}/prices/{price}",
            plans::delete_price,
            "deletePlanPrice",
            "Delete a price",
        )
        .answers(Object(V::Deleted)),
        put(
            "/api/v1/plans/{id}/prices/{price}/default",
            plans::set_default_price,
            "setDefaultPlanPrice",
            "Make a price the plan's default",
        )
        .answers(Object(V::DefaultPrice)),
        // Plan groups (`lifecycle.md` §3).
        get(
            "/api/v1/plan-groups",
            plan_groups::list,
            "listPlanGroups",
            "List plan groups",
        )
        .paged()
        .answers(Page(V::PlanGroup)),
        post(
            "/api/v1/plan-groups",
            plan_groups::create,
            "createPlanGroup",
            "Create a plan group",
        )
        .body::<CreatePlanGroupIn>()
        .answers(Object(V::PlanGroup)),
        get(
            "/api/v1/plan-groups/{id}",
            plan_groups::get,
            "getPlanGroup",
            "Get a plan group with its plans",
        )
        .answers(Object(V::PlanGroupDetail)),
        put(
            "/api/v1/plan-groups/{id}",
            plan_groups::update,
            "updatePlanGroup",
            "Update a plan group (legacy spelling)",
        )
        .body::<UpdatePlanGroupIn>()
        .answers(Object(V::PlanGroup)),
        patch(
            "/api/v1/plan-groups/{id}",
            plan_groups::update,
            "patchPlanGroup",
            "Update a plan group",
        )
        .body::<UpdatePlanGroupIn>()
        .answers(Object(V::PlanGroup)),
        delete(
            "/api/v1/plan-groups/{id}",
            plan_groups::delete,
            "deletePlanGroup",
            "Delete a plan group; its plans stay, outside any group",
        )
        .answers(Object(V::Deleted)),
        post(
            "/api/v1/plan-groups/{id}/plans",
            plan_groups::add_plan,
            "addPlanToGroup",
            "Put a plan in a group",
        )
        .body::<AddPlanToGroupIn>()
        .answers(Object(V::AddedPlanToGroup)),
        delete(
            "/api/v1/plan-groups/{id}/plans/{plan}",
            plan_groups::remove_plan,
            "removePlanFromGroup",
            "Take a plan out of a group",
        )
        .answers(Object(V::RemovedPlanFromGroup)),
        put(
            "/api/v1/plan-groups/{id}/plans/reorder",
            plan_groups::reorder,
            "reorderGroupPlans",
            "Set the order of a group's plans",
        )
        .body::<ReorderPlansIn>()
        .answers(Object(V::ReorderedPlans)),
        // Subscriptions (`catalog.md` §5).
        get(
            "/api/v1/subscriptions",
            subscriptions::list,
            "listSubscriptions",
            "List subscriptions",
        )
        .param(
            "customerId",
            false,
            "Only this customer's subscriptions (id or externalId).",
        )
        .param("status", false, "Only subscriptions in this status.")
        .paged()
        .answers(Page(V::SubscriptionListItem)),
        post(
            "/api/v1/subscriptions",
            subscriptions::create,
            "createSubscription",
            "Subscribe a customer to a plan",
        )
        .body::<CreateSubscriptionIn>()
        .answers(Object(V::CreatedSubscription))
        .errors(&[422]),
        get(
            "/api/v1/subscriptions/active",
            subscriptions::get_active,
            "getActiveSubscription",
            "Get a customer's live subscription",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .answers(Object(V::Subscription)),
        get(
            "/api/v1/subscriptions/{id}",
            subscriptions::get,
            "getSubscription",
            "Get a subscription",
        )
        .answers(Object(V::Subscription)),
        post(
            "/api/v1/subscriptions/{id}/cancel",
            subscriptions::cancel,
            "cancelSubscription",
            "Cancel a subscription now or at the period's end",
        )
        .body::<CancelSubscriptionIn>()
        .answers(Object(V::CanceledSubscription)),
        post(
            "/api/v1/subscriptions/{id}/uncancel",
            subscriptions::uncancel,
            "uncancelSubscription",
            "Withdraw a scheduled cancellation",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::UncanceledSubscription)),
        // Plan grants (`commerce.md` §6).
        get(
            "/api/v1/customers/{id}/plan-grants",
            plan_grants::list,
            "listPlanGrants",
            "Every plan grant of the customer, newest first",
        )
        .answers(Array(V::PlanGrant)),
        post(
            "/api/v1/customers/{id}/plan-grants",
            plan_grants::create,
            "createPlanGrant",
            "Give the customer a higher plan's access for a while, billing unchanged",
        )
        .body::<PlanGrantIn>()
        .answers(Object(V::PlanGrant)),
        patch(
            "/api/v1/customers/{id}/plan-grants/{grantId}",
            plan_grants::update,
            "updatePlanGrant",
            "Change an active grant's duration and reason",
        )
        .body::<PlanGrantIn>()
        .answers(Object(V::PlanGrant)),
        post(
            "/api/v1/customers/{id}/plan-grants/{grantId}/revoke",
            plan_grants::revoke,
            "revokePlanGrant",
            "End an active grant now",
        )
        .body::<RevokeGrantIn>()
        .answers(Object(V::PlanGrant)),
        // Markets and regional pricing (`commerce.md` §7).
        get(
            "/api/v1/markets",
            markets::list,
            "listMarkets",
            "List markets, newest first",
        )
        .paged()
        .answers(Page(V::Market)),
        post(
            "/api/v1/markets",
            markets::create,
            "createMarket",
            "Create a market: a name and its countries",
        )
        .body::<MarketIn>()
        .answers(Object(V::Market)),
        get(
            "/api/v1/markets/{id}",
            markets::get,
            "getMarket",
            "Get a market",
        )
        .answers(Object(V::Market)),
        patch(
            "/api/v1/markets/{id}",
            markets::update,
            "updateMarket",
            "Replace a market's name and countries",
        )
        .body::<MarketIn>()
        .answers(Object(V::Market)),
        delete(
            "/api/v1/markets/{id}",
            markets::delete,
            "deleteMarket",
            "Delete a market no price or live subscription uses",
        )
        .answers(Object(V::Deleted)),
        put(
            "/api/v1/plans/{id}/regional",
            markets::set_plan_regional,
            "setPlanRegionalPricing",
            "Set a plan's exchange rate for a currency, with entries by hand",
        )
        .body::<RegionalPricingIn>()
        .answers(Object(V::RegionalResult)),
        put(
            "/api/v1/plans/{id}/prices/{priceId}/regional",
            markets::set_price_overrides,
            "setRegionalPrices",
            "Set a price's amounts by currency, by hand",
        )
        .body::<PriceOverridesIn>()
        .answers(Object(V::PriceOverrides)),
        delete(
            "/api/v1/plans/{id}/prices/{priceId}/regional",
            markets::delete_price_overrides,
            "deleteRegionalPrices",
            "Drop a price's amounts entered by hand",
        )
        .answers(Object(V::DeletedOverrides)),
        // Offers and promo codes (`commerce.md` §4).
        get(
            "/api/v1/offers",
            offers::list_offers,
            "listOffers",
            "List offers, newest first",
        )
        .param(
            "active",
            false,
            "`true` or `false`: only offers with that flag.",
        )
        .paged()
        .answers(Page(V::Offer)),
        post(
            "/api/v1/offers",
            offers::create_offer,
            "createOffer",
            "Create an offer: a free trial and discount phases",
        )
        .body::<OfferIn>()
        .answers(Object(V::Offer)),
        get(
            "/api/v1/offers/{id}",
            offers::get_offer,
            "getOffer",
            "Get an offer",
        )
        .answers(Object(V::Offer)),
        patch(
            "/api/v1/offers/{id}",
            offers::update_offer,
            "updateOffer",
            "Replace an offer's name and phases",
        )
        .body::<OfferIn>()
        .answers(Object(V::Offer)),
        delete(
            "/api/v1/offers/{id}",
            offers::delete_offer,
            "deleteOffer",
            "Delete an offer (subscriptions keep theirs)",
        )
        .answers(Object(V::DeletedOffer)),
        get(
            "/api/v1/promo-codes",
            offers::list_codes,
            "listPromoCodes",
            "List promo codes, newest first",
        )
        .paged()
        .answers(Page(V::PromoCode)),
        post(
            "/api/v1/promo-codes",
            offers::create_code,
            "createPromoCode",
            "Create a promo code for an offer (or, legacy, for its own terms)",
        )
        .body::<PromoCodeIn>()
        .answers(Object(V::PromoCode)),
        get(
            "/api/v1/promo-codes/{id}",
            offers::get_code,
            "getPromoCode",
            "Get a promo code by id or by the code",
        )
        .answers(Object(V::PromoCode)),
        put(
            "/api/v1/promo-codes/{id}",
            offers::update_code,
            "updatePromoCode",
            "Change a promo code's limits (legacy spelling)",
        )
        .body::<PromoCodePatchIn>()
        .answers(Object(V::PromoCode)),
        patch(
            "/api/v1/promo-codes/{id}",
            offers::update_code,
            "patchPromoCode",
            "Change a promo code's limits",
        )
        .body::<PromoCodePatchIn>()
        .answers(Object(V::PromoCode)),
        put(
            "/api/v1/subscriptions/{id}/offer",
            offers::apply,
            "applyOffer",
            "Discount an active subscription from its next period",
        )
        .body::<ApplyOfferIn>()
        .answers(Object(V::Subscription)),
        delete(
            "/api/v1/subscriptions/{id}/offer",
            offers::remove,
            "removeOffer",
            "Remove an offer that has not started",
        )
        .answers(Object(V::Subscription)),
        // Add-ons (`lifecycle.md` §5).
        get("/api/v1/addons", addons::list, "listAddons", "List add-ons")
            .paged()
            .answers(Page(V::Addon)),
        post(
            "/api/v1/addons",
            addons::create,
            "createAddon",
            "Create an add-on",
        )
        .body::<CreateAddonIn>()
        .answers(Object(V::Addon)),
        get(
            "/api/v1/addons/{id}",
            addons::get,
            "getAddon",
            "Get an add-on by id or slug",
        )
        .answers(Object(V::Addon)),
        put(
            "/api/v1/addons/{id}",
            addons::update,
            "updateAddon",
            "Update an add-on (legacy spelling)",
        )
        .body::<UpdateAddonIn>()
        .answers(Object(V::Addon)),
        patch(
            "/api/v1/addons/{id}",
            addons::update,
            "patchAddon",
            "Update an add-on",
        )
        .body::<UpdateAddonIn>()
        .answers(Object(V::Addon)),
        delete(
            "/api/v1/addons/{id}",
            addons::delete,
            "deleteAddon",
            "Delete an add-on no subscription has active",
        )
        .answers(Object(V::Deleted)),
        get(
            "/api/v1/active-addons",
            addons::list_active,
            "listActiveAddons",
            "The add-ons active on a customer's subscription",
        )
        .query(&[QueryParam {
            name: "customerId",
            kind: ParamType::Text,
            required: true,
            description: "The customer: `cus_…` or its externalId.",
        }])
        .answers(Array(V::ActiveAddon)),
        post(
            "/api/v1/subscriptions/{id}/addons",
            addons::activate,
            "activateAddon",
            "Activate an add-on on a subscription",
        )
        .body::<ActivateAddonIn>()
        .answers(Object(V::SubscriptionAddon)),
        delete(
            "/api/v1/subscriptions/{id}/addons/{addon}",
            addons::deactivate,
            "deactivateAddon",
            "Deactivate an add-on",
        )
        .answers(Object(V::DeletedSubscriptionAddon)),
        // Pause and resume (`lifecycle.md` §6), 2026-08-27 on.
        post(
            "/api/v1/subscriptions/{id}/pause",
            pauses::pause,
            "pauseSubscription",
            "Pause a subscription now or at the period end",
        )
        .body::<PauseIn>()
        .answers(Object(V::Subscription)),
        patch(
            "/api/v1/subscriptions/{id}/pause",
            pauses::update,
            "updatePause",
            "Change how long a pause lasts",
        )
        .body::<UpdatePauseIn>()
        .answers(Object(V::Subscription)),
        delete(
            "/api/v1/subscriptions/{id}/pause",
            pauses::revoke,
            "revokePause",
            "Withdraw a scheduled pause",
        )
        .answers(Object(V::Subscription)),
        post(
            "/api/v1/subscriptions/{id}/resume",
            pauses::resume,
            "resumeSubscription",
            "Resume a paused subscription",
        )
        .answers(Object(V::SubscriptionResume)),
        post(
            "/api/v1/subscriptions/{id}/reactivate",
            pauses::reactivate,
            "reactivateSubscription",
            "Bring a canceled subscription back",
        )
        .body::<ReactivateIn>()
        .answers(Object(V::ReactivatedSubscription))
        .errors(&[402, 409, 422, 429]),
        // Payments and transactions (`payments.md` §7–8).
        get(
            "/api/v1/payments",
            payments::list,
            "listPayments",
            "List payment links and charges, newest first",
        )
        .param(
            "customerId",
            false,
            "Only this customer's (`cus_…` or externalId).",
        )
        .paged()
        .answers(Page(V::Payment)),
        post(
            "/api/v1/payments",
            payments::create,
            "createPayment",
            "Create a payment link, paid on Tally's page",
        )
        .body::<PaymentIn>()
        .answers(Object(V::Payment))
        .errors(&[409]),
        post(
            "/api/v1/payments/charge",
            payments::charge,
            "chargePayment",
            "Charge a customer's default card",
        )
        .body::<PaymentIn>()
        .answers(Object(V::Payment))
        .errors(&[402, 409, 422]),
        get(
            "/api/v1/payments/{id}",
            payments::get,
            "getPayment",
            "Get a payment",
        )
        .answers(Object(V::Payment)),
        post(
            "/api/v1/payments/{id}/cancel",
            payments::cancel,
            "cancelPayment",
            "Cancel an unpaid payment link",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::Payment))
        .errors(&[409]),
        get(
            "/api/v1/transactions",
            payments::list_transactions,
            "listTransactions",
            "List transactions (charge attempts), newest first",
        )
        .param("status", false, "Only transactions in this status.")
        .param(
            "customerEmail",
            false,
            "Only this customer e-mail (any case).",
        )
        .paged()
        .answers(Page(V::Transaction)),
        get(
            "/api/v1/transactions/{id}",
            payments::get_transaction,
            "getTransaction",
            "Get a transaction",
        )
        .answers(Object(V::Transaction)),
        post(
            "/api/v1/transactions/{id}/refund",
            payments::refund,
            "refundTransaction",
            "Refund a succeeded transaction in full",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::Refund))
        .errors(&[409]),
        post(
            "/api/v1/transactions/{id}/retry",
            recovery::retry,
            "retryTransaction",
            "Try a past-due invoice's failed attempt again with the default card",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::TransactionRetry))
        .errors(&[402, 409, 422, 429]),
        post(
            "/api/v1/subscriptions/{id}/recovery-link",
            recovery::create_link,
            "createRecoveryLink",
            "A page that pays a past-due subscription's invoice (Node spelling)",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::RecoveryLink))
        .errors(&[409]),
        post(
            "/api/v1/subscriptions/{id}/recovery-links",
            recovery::create_link,
            "createRecoveryLinks",
            "A page that pays a past-due subscription's invoice (Python spelling)",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::RecoveryLink))
        .errors(&[409]),
        post(
            "/api/v1/subscriptions/{id}/payment-method/update",
            payments::payment_method_update,
            "updatePaymentMethod",
            "A page where the customer saves a new default card",
        )
        .body::<PaymentMethodUpdateIn>()
        .answers(Object(V::PaymentMethodUpdate))
        .errors(&[409]),
        post(
            "/api/v1/claim-link",
            recovery::claim_link,
            "createClaimLink",
            "A link that claims an organization pair provisioned headless",
        )
        .body::<NoFieldsIn>()
        .answers(Object(V::ClaimLink))
        .errors(&[409]),
        // The customer portal (`payments.md` §10): both spellings in every version.
        post(
            "/api/v1/portal/request-access",
            payments::portal_access,
            "requestPortalAccess",
            "A customer portal link (Node spelling)",
        )
        .body::<PortalAccessIn>()
        .answers(Object(V::PortalAccess)),
        post(
            "/api/v1/portal/sessions",
            payments::portal_access,
            "createPortalSession",
            "A customer portal link (Python spelling)",
        )
        .body::<PortalAccessIn>()
        .answers(Object(V::PortalAccess)),
        // Payouts (`payments.md` §9).
        post(
            "/api/v1/payouts/bank-accounts",
            payouts::add_bank_account,
            "addPayoutBankAccount",
            "Add a bank account payouts can go to",
        )
        .body::<BankAccountIn>()
        .answers(Object(V::PayoutBankAccount))
        .errors(&[409]),
        post(
            "/api/v1/payouts",
            payouts::request,
            "requestPayout",
            "Pay out available money to the default bank account",
        )
        .body::<PayoutIn>()
        .answers(Object(V::Payout))
        .errors(&[403, 409]),
        post(
            "/api/v1/payouts/verification",
            payouts::complete_verification,
            "completePayoutVerification",
            "Record the payout account (2026-07-11; later versions answer 410)",
        )
        .body::<PayoutVerificationIn>()
        .answers(Object(V::PayoutVerification))
        .errors(&[409, 410]),
        // Credit packs (`commerce.md` §3).
        get(
            "/api/v1/credit-packs",
            credit_packs::list,
            "listCreditPacks",
            "The credit packs on sale",
        )
        .answers(Array(V::CreditPack)),
        post(
            "/api/v1/credit-packs",
            credit_packs::create,
            "createCreditPack",
            "Create a credit pack",
        )
        .body::<CreditPackIn>()
        .answers(Object(V::CreditPack)),
        post(
            "/api/v1/credit-packs/manage",
            credit_packs::create,
            "createCreditPackManage",
            "Create a credit pack (legacy path)",
        )
        .body::<CreditPackIn>()
        .answers(Object(V::CreditPack)),
        put(
            "/api/v1/credit-packs/{id}",
            credit_packs::update,
            "updateCreditPack",
            "Update a credit pack (legacy spelling)",
        )
        .body::<CreditPackIn>()
        .answers(Object(V::CreditPack)),
        patch(
            "/api/v1/credit-packs/{id}",
            credit_packs::update,
            "patchCreditPack",
            "Update a credit pack",
        )
        .body::<CreditPackIn>()
        .answers(Object(V::CreditPack)),
        delete(
            "/api/v1/credit-packs/{id}",
            credit_packs::delete,
            "deleteCreditPack",
            "Delete a credit pack",
        )
        .answers(Object(V::Deleted)),
        post(
            "/api/v1/subscriptions/{id}/credits",
            credit_packs::purchase,
            "purchaseCredits",
            "Buy a credit pack for a credits-plan subscription",
        )
        .body::<PurchaseCreditsIn>()
        .answers(Object(V::CreditGrant)),
        // Customer credits (`commerce.md` §5).
        get(
            "/api/v1/customers/{id}/credits",
            customer_credits::list,
            "listCustomerCredits",
            "A customer's credits, newest first",
        )
        .answers(Array(V::CustomerCredit)),
        post(
            "/api/v1/customers/{id}/credits",
            customer_credits::create,
            "createCustomerCredit",
            "Grant a customer credit against future invoices",
        )
        .body::<CustomerCreditIn>()
        .answers(Object(V::CustomerCredit)),
        post(
            "/api/v1/customers/{id}/credits/{credit}/revoke",
            customer_credits::revoke,
            "revokeCustomerCredit",
            "Revoke what is left of a customer credit",
        )
        .answers(Object(V::CustomerCreditRevocation)),
        // Plan changes (`lifecycle.md` §4).
        post(
            "/api/v1/subscriptions/{id}/change-plan",
            plan_changes::change,
            "changeSubscriptionPlan",
            "Change a subscription's plan or interval, now or at renewal",
        )
        .body::<ChangePlanIn>()
        .answers(Object(V::PlanChange)),
        post(
            "/api/v1/subscriptions/{id}/preview-change",
            plan_changes::preview,
            "previewSubscriptionChange",
            "What an immediate plan change would cost",
        )
        .body::<PreviewChangeIn>()
        .answers(Object(V::PreviewChange)),
        // Seats (`seats.md` §3–§4).
        post("/api/v1/seats", seats::add, "addSeats", "Add seats")
            .body::<SeatChangeIn>()
            .answers(Object(V::SeatEvent)),
        put(
            "/api/v1/seats",
            seats::set,
            "setSeats",
            "Set the seat count",
        )
        .body::<SeatChangeIn>()
        .answers(Object(V::SeatEvent)),
        delete(
            "/api/v1/seats",
            seats::remove,
            "removeSeats",
            "Remove seats",
        )
        .body::<SeatChangeIn>()
        .answers(Object(V::SeatEvent)),
        post(
            "/api/v1/seats/remove",
            seats::remove,
            "removeSeatsPost",
            "Remove seats (POST spelling)",
        )
        .body::<SeatChangeIn>()
        .answers(Object(V::SeatEvent)),
        put(
            "/api/v1/seats/bulk",
            seats::set_all,
            "setAllSeats",
            "Set several seat types at once",
        )
        .body::<BulkSeatsIn>()
        .answers(Array(V::BulkSeatEvent)),
        get(
            "/api/v1/seats/balance",
            seats::balance,
            "getSeatBalance",
            "One seat type's balance",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .param("featureCode", true, "The seat feature's code.")
        .answers(Object(V::SeatBalance)),
        get(
            "/api/v1/seats/balances",
            seats::balances,
            "getSeatBalances",
            "Every seat type's balance",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .answers(Object(V::SeatBalances)),
        get(
            "/api/v1/seats/events",
            seats::history,
            "listSeatEvents",
            "Seat changes, newest first",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .param("featureCode", false, "Only this seat type.")
        .paged()
        .answers(Page(V::SeatEvent)),
        // Balance and credits (`balance.md` §2–§3).
        post(
            "/api/v1/subscriptions/{id}/balance/adjust",
            balance::adjust,
            "adjustBalance",
            "Add to or take from credits or balance",
        )
        .body::<AdjustBalanceIn>()
        .answers(Object(V::BalanceAdjustment)),
        post(
            "/api/v1/subscriptions/{id}/balance/topup",
            balance::top_up,
            "topUpBalance",
            "Top up the balance",
        )
        .body::<TopUpIn>()
        .answers(Object(V::BalanceTopUp)),
        // Usage metering and feature access (`usage.md`).
        post(
            "/api/v1/usage/events",
            usage::track,
            "trackUsage",
            "Record usage of a metered feature",
        )
        .body::<TrackUsageIn>()
        .answers(Object(V::UsageEvent)),
        post(
            "/api/v1/usage/check",
            usage::check,
            "checkUsage",
            "Whether usage would be accepted, without recording it",
        )
        .body::<CheckUsageIn>()
        .not_idempotent()
        .answers(Object(V::UsageCheck))
        .errors(&[409]),
        put(
            "/api/v1/usage",
            usage::set,
            "setUsage",
            "Set the current period's usage of a feature",
        )
        .body::<SetUsageIn>()
        .answers(Object(V::UsageAdjustment)),
        post(
            "/api/v1/usage/quota",
            usage::add_quota,
            "addQuota",
            "Add units to a quota balance",
        )
        .body::<QuotaChangeIn>()
        .answers(Object(V::QuotaEvent)),
        put(
            "/api/v1/usage/quota",
            usage::set_quota,
            "setQuota",
            "Set a quota balance",
        )
        .body::<QuotaChangeIn>()
        .answers(Object(V::QuotaEvent)),
        delete(
            "/api/v1/usage/quota",
            usage::remove_quota,
            "removeQuota",
            "Remove units from a quota balance (legacy spelling, with a body)",
        )
        .body::<QuotaChangeIn>()
        .answers(Object(V::QuotaEvent)),
        post(
            "/api/v1/usage/quota/remove",
            usage::remove_quota,
            "removeQuotaPost",
            "Remove units from a quota balance",
        )
        .body::<QuotaChangeIn>()
        .answers(Object(V::QuotaEvent)),
        get(
            "/api/v1/usage/quota",
            usage::get_quota,
            "getQuota",
            "One quota balance",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .param("featureCode", true, "The quota feature's code.")
        .answers(Object(V::Quota)),
        get(
            "/api/v1/usage/quota/all",
            usage::all_quotas,
            "getAllQuotas",
            "Every quota balance of the customer's plan",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .answers(Array(V::Quota)),
        get(
            "/api/v1/feature-access",
            usage::list_access,
            "listFeatureAccess",
            "Every feature of the customer's plan and whether it may be used",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .answers(Array(V::FeatureAccess)),
        get(
            "/api/v1/feature-access/{code}",
            usage::get_access,
            "getFeatureAccess",
            "Whether the customer may use one feature",
        )
        .param("customerId", true, "The customer (id or externalId).")
        .param(
            "action",
            false,
            "`canUse`: judge one more unit and say whether it would be charged.",
        )
        .answers(Object(V::FeatureAccess)),
        // Invoices (`balance.md` §5).
        get(
            "/api/v1/invoices",
            invoices::list,
            "listInvoices",
            "List invoices, newest first",
        )
        .param(
            "customerId",
            false,
            "Only this customer's invoices (id or externalId).",
        )
        .param(
            "subscriptionId",
            false,
            "Only this subscription's invoices.",
        )
        .param("status", false, "Only invoices in this status.")
        .paged()
        .answers(Page(V::InvoiceListItem)),
        get(
            "/api/v1/invoices/{id}",
            invoices::get,
            "getInvoice",
            "Get an invoice with its lines",
        )
        .answers(Object(V::Invoice)),
        put(
            "/api/v1/invoices/{id}/status",
            invoices::set_status,
            "setInvoiceStatus",
            "Change an invoice's status (legacy spelling)",
        )
        .body::<InvoiceStatusIn>()
        .answers(Object(V::InvoiceStatus)),
        patch(
            "/api/v1/invoices/{id}/status",
            invoices::set_status,
            "patchInvoiceStatus",
            "Change an invoice's status",
        )
        .body::<InvoiceStatusIn>()
        .answers(Object(V::InvoiceStatus)),
        post(
            "/api/v1/invoices",
            invoices::create_adjustment,
            "createAdjustmentInvoice",
            "Issue a one-off adjustment invoice (a negative amount is a credit note)",
        )
        .body::<AdjustmentIn>()
        .answers(Object(V::Invoice)),
        post(
            "/api/v1/invoices/{id}/send",
            invoices::send,
            "sendInvoice",
            "Send an invoice to its customer (e-mail when SMTP is configured)",
        )
        .answers(Object(V::SentInvoice)),
        get(
            "/api/v1/invoices/{id}/download",
            invoices::download_link,
            "getInvoiceDownloadUrl",
            "A signed link to the invoice's PDF, valid for seven days (legacy spelling)",
        )
        .answers(Object(V::InvoiceDownload)),
        post(
            "/api/v1/invoices/{id}/download-links",
            invoices::download_link,
            "createInvoiceDownloadLink",
            "A signed link to the invoice's PDF, valid for seven days",
        )
        .answers(Object(V::InvoiceDownload)),
        // Webhook endpoints (`webhooks.md` §1).
        get(
            "/api/v1/webhooks",
            webhooks::list,
            "listWebhooks",
            "List webhook endpoints",
        )
        .paged()
        .answers(Page(V::Webhook)),
        post(
            "/api/v1/webhooks",
            webhooks::create,
            "createWebhook",
            "Register a webhook endpoint",
        )
        .body::<WebhookIn>()
        .answers(Object(V::Webhook)),
        get(
            "/api/v1/webhooks/{id}",
            webhooks::get,
            "getWebhook",
            "Get a webhook endpoint",
        )
        .answers(Object(V::Webhook)),
        put(
            "/api/v1/webhooks/{id}",
            webhooks::update,
            "updateWebhook",
            "Change a webhook endpoint (legacy spelling)",
        )
        .body::<WebhookIn>()
        .answers(Object(V::Webhook)),
        patch(
            "/api/v1/webhooks/{id}",
            webhooks::update,
            "patchWebhook",
            "Change a webhook endpoint",
        )
        .body::<WebhookIn>()
        .answers(Object(V::Webhook)),
        delete(
            "/api/v1/webhooks/{id}",
            webhooks::delete,
            "deleteWebhook",
            "Delete a webhook endpoint",
        )
        .answers(Object(V::Deleted)),
        post(
            "/api/v1/webhooks/{id}/test",
            webhooks::test,
            "testWebhook",
            "Send a test event now",
        )
        .not_idempotent()
        .answers(Object(V::WebhookTest)),
        get(
            "/api/v1/webhooks/{id}/deliveries",
            webhooks::deliveries,
            "listWebhookDeliveries",
            "Deliveries and their attempts (Tally extension)",
        )
        .paged()
        .answers(Page(V::WebhookDelivery)),
        // The test clock, sandbox only (`catalog.md` §7).
        get(
            "/api/v1/test-clock",
            test_clock::get,
            "getTestClock",
            "The organization's simulated time",
        )
        .answers(Object(V::TestClock))
        .errors(&[403]),
        post(
            "/api/v1/test-clock",
            test_clock::advance,
            "advanceTestClock",
            "Move simulated time forward and run what falls due",
        )
        .body::<AdvanceClockIn>()
        .answers(Object(V::TestClock))
        .answers_with(202, Object(V::TestClockRun), direct)
        .errors(&[403]),
        post(
            "/api/v1/test-clock/process-billing",
            test_clock::process_billing,
            "processTestClockBilling",
            "Bill what is due at the simulated time (legacy versions)",
        )
        .body::<NoFieldsIn>()
        .answers_with(200, Object(V::TestClockBilling), Some(Generation::Legacy))
        .errors(&[403, 410]),
    ]
}

/// `get(path, handler, operation id, summary)` and its siblings: one row of the table per method.
macro_rules! row_builders {
    ($($name:ident => $method:ident),*) => {$(
        fn $name<H: Handler<T, AppState>, T: 'static>(
            path: &'static str,
            handler: H,
            id: &'static str,
            summary: &'static str,
        ) -> Endpoint {
            Endpoint::new(Method::$method, path, handler, id, summary)
        }
    )*};
}

row_builders!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE);

pub fn router(state: AppState) -> Router {
    let api = endpoints()
        .into_iter()
        .fold(Router::new(), |router, endpoint| {
            router.route(endpoint.path, endpoint.handler)
        })
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(unknown_endpoint)
        .layer(CatchPanicLayer::custom(|_| {
            // A backstop only: a panic is a bug, reported as internal_error, never a dropped
            // connection.
            axum::response::IntoResponse::into_response(ApiError::internal("handler panicked"))
        }))
        .layer(from_fn_with_state(state.clone(), crate::edge::edge));
    let health = Router::new()
        .route(
            "/healthz",
            axum::routing::get(health).fallback(unknown_endpoint),
        )
        .route(
            "/openapi.json",
            axum::routing::get(openapi_document).fallback(unknown_endpoint),
        )
        // Signed links carry their own authority (`commerce.md` §8.3).
        .route(
            "/files/invoices/{file}",
            axum::routing::get(invoices::file).fallback(unknown_endpoint),
        )
        .layer(from_fn_with_state(
            state.clone(),
            crate::edge::render_unversioned_errors,
        ));
    Router::new()
        .merge(health)
        .merge(api)
        // Hosted pages carry a signed token each and answer in HTML (`pages`).
        .merge(crate::pages::router(state.clone()))
        // The operator dashboard: a session cookie and form tokens (`dashboard`).
        .merge(crate::dashboard::router())
        .layer(axum::middleware::from_fn(crate::edge::stamp_request_id))
        .layer(axum::middleware::from_fn(crate::request_metrics::record))
        .with_state(state)
}

/// Decision (`README.md`, Tier 4): an endpoint is a method and a path; any pair Tally does not
/// serve, including a known path with another method, is `404 not_found`.
async fn unknown_endpoint(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("No endpoint {method} {}", uri.path()),
    )
}

/// `200` while the database answers; `503` while it is unreachable.
async fn health(State(state): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    let unhealthy = |error| ApiError::from(AppError::Store(error));
    state
        .app
        .store()
        .read()
        .await
        .map_err(unhealthy)?
        .organization_count()
        .await
        .map_err(unhealthy)?;
    Ok(axum::Json(json!({ "status": "ok" })))
}

/// `GET /openapi.json[?version=…]`: the document of the version's generation, without a key.
async fn openapi_document(query: ApiQuery) -> Result<axum::response::Response, ApiError> {
    let generation = match query.text("version") {
        None => Generation::Direct,
        Some(text) => ApiVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == text)
            .map(ApiVersion::generation)
            .ok_or_else(|| {
                ApiError::validation("version", "version must be an API version Tally implements")
            })?,
    };
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        crate::openapi::document_json(generation),
    )
        .into_response())
}

/// Runs a command through the app's write path, rendering success with `view` and refusals in
/// the documented error shape, both for the resolved version; the bytes are what an
/// idempotency key will replay. `view` owns what it needs: the write job that calls it runs on
/// even if this request goes away.
async fn write<C: Command + 'static>(
    state: &AppState,
    ctx: &Ctx,
    key: &IdempotencyKey,
    canonical_body: &str,
    command: C,
    view: impl Fn(&C::Output) -> StoredResponse + Send + Sync + 'static,
) -> Result<Reply, ApiError> {
    let idempotency = key.for_body(canonical_body);
    let written = state
        .app
        .write(
            &ctx.caller,
            idempotency.as_ref(),
            command,
            render(state, ctx, view),
        )
        .await?;
    Ok(Reply(written))
}

/// The renderer of an operation's outcome that `write` hands to the app: `view` for success,
/// the documented error shape for refusals, in the resolved version.
fn render<T>(
    state: &AppState,
    ctx: &Ctx,
    view: impl Fn(&T) -> StoredResponse + Send + Sync + 'static,
) -> impl Fn(Result<&T, &AppError>) -> StoredResponse + Send + Sync + 'static {
    let version = ctx.version;
    let state = state.clone();
    move |outcome: Result<&T, &AppError>| match outcome {
        Ok(output) => view(output),
        Err(refusal) => {
            let error = ApiError::from(refusal);
            StoredResponse {
                status: error.status().as_u16(),
                body: error.body(version, &state.doc_url_base).to_string(),
            }
        }
    }
}

/// Renders a page of items, with the cursor of its last item when more follow.
fn page_reply<T>(
    ctx: &Ctx,
    page: &Page<T>,
    position: impl Fn(&T) -> (Timestamp, &str),
    view: impl Fn(&T) -> Value,
) -> Reply {
    let next_cursor = page.items.last().map(|last| {
        let (created_at, id) = position(last);
        encode_cursor(created_at, id)
    });
    let items = page.items.iter().map(view).collect();
    reply::page(ctx.version, items, page.has_more, next_cursor).into()
}

/// `page_reply` for the catalog lists, which were never paginated: a page that holds the rest
/// of the list keeps the plain array shape (legacy `{success, data}`), so nothing changes for
/// a catalog that fits in one page.
fn catalog_page_reply<T>(
    ctx: &Ctx,
    page: &Page<T>,
    position: impl Fn(&T) -> (Timestamp, &str),
    view: impl Fn(&T) -> Value,
) -> Reply {
    if page.has_more {
        page_reply(ctx, page, position, view)
    } else {
        reply::array(ctx.version, page.items.iter().map(view).collect()).into()
    }
}

/// Runs a delete command and answers **DeletedObject** naming `object` with the id it deleted
/// (`catalog.md` §1).
async fn delete_answer<C>(
    state: &AppState,
    ctx: &Ctx,
    key: &IdempotencyKey,
    command: C,
    object: &'static str,
) -> Result<Reply, ApiError>
where
    C: Command + 'static,
    C::Output: std::fmt::Display,
{
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(state, ctx, key, EMPTY_BODY, command, move |id| {
        reply::object(
            version,
            tally_wire::deleted(version, &id.to_string(), object, livemode),
        )
    })
    .await
}

/// `{}` for requests without a body (DELETE), for the idempotency fingerprint.
const EMPTY_BODY: &str = "{}";

/// The value of a required body field, or a `validation_error` naming it.
fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::validation(field, format!("{field} is required")))
}

/// A `validation_error` from domain field checks.
fn invalid(error: tally_domain::DomainError) -> ApiError {
    ApiError::from(AppError::from(error))
}
