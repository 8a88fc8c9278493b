//! Markets, market and regional prices, and the currency a subscription is billed in
//! (`commerce.md` §2, §7).

use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::catalog::{Plan, PlanId, PlanPrice, PriceId};
use tally_domain::customer::Metadata;
use tally_domain::customer_credits::parse_currency;
use tally_domain::markets::{
    ExchangeRate, Market, MarketPrice, OVERRIDES_MAX, PlanRegional, PriceSource, RegionalOverage,
    RegionalPrice, Unpriced, check_market, holds_rate_amounts, localized_features, parse_country,
    relocalized_features, renewal_price, resolve_price,
};
use tally_domain::money::{Cents, Rate};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::{FeatureSnapshot, Subscription};
use tally_domain::{Customer, DomainError, OrgId};
use tally_store::{Db, SubscriptionPricing, Tx, constraints};

/// Every country of `countries` that another market than `except` holds: the first one is
/// answered as a duplicate, naming it and its market.
async fn check_countries(
    tx: &mut dyn Tx,
    org: &OrgId,
    countries: &[String],
    except: Option<&str>,
) -> Result<(), AppError> {
    for country in countries {
        if let Some(owner) = tx.market_of_country(org, country).await?
            && Some(owner.id.as_str()) != except
        {
            return Err(AppError::CountryInMarket {
                country: country.clone(),
                market_id: owner.id,
            });
        }
    }
    Ok(())
}

fn country_taken(error: tally_store::StoreError) -> AppError {
    if error.is_conflict_on(constraints::MARKET_COUNTRY) {
        AppError::Duplicate {
            field: "countryCodes",
        }
    } else {
        error.into()
    }
}

pub struct CreateMarket {
    pub name: String,
    pub countries: Vec<String>,
    pub metadata: Option<Metadata>,
}

#[async_trait]
impl Command for CreateMarket {
    type Output = Market;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Market, AppError> {
        let (name, countries) = check_market(&self.name, &self.countries, self.metadata.as_ref())?;
        let org = ctx.caller.org().clone();
        check_countries(ctx.tx, &org, &countries, None).await?;
        let market = Market {
            id: format!("pmg_{}", ctx.ids.ulid()),
            org_id: org,
            name,
            country_codes: countries,
            metadata: self.metadata.clone().unwrap_or_default(),
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_market(&market).await.map_err(country_taken)?;
        Ok(market)
    }
}

/// Replaces a market's name and countries (and metadata when sent). Subscriptions keep the
/// market they were priced from.
pub struct UpdateMarket {
    pub id: String,
    pub name: String,
    pub countries: Vec<String>,
    pub metadata: Option<Metadata>,
}

#[async_trait]
impl Command for UpdateMarket {
    type Output = Market;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Market, AppError> {
        let (name, countries) = check_market(&self.name, &self.countries, self.metadata.as_ref())?;
        let org = ctx.caller.org().clone();
        let mut market = ctx
            .tx
            .market(&org, &self.id)
            .await?
            .ok_or(AppError::NotFound(NotFound::Market))?;
        check_countries(ctx.tx, &org, &countries, Some(&market.id)).await?;
        market.name = name;
        market.country_codes = countries;
        if let Some(metadata) = &self.metadata {
            market.metadata = metadata.clone();
        }
        market.updated_at = ctx.now;
        ctx.tx.update_market(&market).await.map_err(country_taken)?;
        Ok(market)
    }
}

/// Deletes a market no price and no live subscription names.
pub struct DeleteMarket {
    pub id: String,
}

#[async_trait]
impl Command for DeleteMarket {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org().clone();
        ctx.tx
            .market(&org, &self.id)
            .await?
            .ok_or(AppError::NotFound(NotFound::Market))?;
        if ctx.tx.market_in_use(&org, &self.id).await? {
            return Err(AppError::MarketInUse);
        }
        ctx.tx.delete_market(&org, &self.id).await?;
        Ok(())
    }
}

/// A price's market entries as a request gives them: market id, currency, amount.
pub type MarketPriceInput = (String, String, i64);

/// Checks market entries (each market once, known, a currency Commet prices in, an amount of
/// at least 0) and turns them into entries.
pub(crate) async fn market_prices(
    tx: &mut dyn Tx,
    org: &OrgId,
    input: &[MarketPriceInput],
) -> Result<Vec<MarketPrice>, AppError> {
    let mut entries: Vec<MarketPrice> = Vec::with_capacity(input.len());
    for (i, (market, currency, price)) in input.iter().enumerate() {
        if tx.market(org, market).await?.is_none() {
            return Err(AppError::NotFoundAt(
                NotFound::Market,
                format!("marketPrices.{i}.marketGroupId"),
            ));
        }
        if entries.iter().any(|e| &e.market_id == market) {
            return Err(DomainError::field(
                format!("marketPrices.{i}.marketGroupId"),
                "each market may appear once",
            )
            .into());
        }
        let currency = parse_currency(currency).ok_or_else(|| {
            DomainError::field(
                format!("marketPrices.{i}.currency"),
                "currency is not one Commet prices in",
            )
        })?;
        if !(0..=tally_domain::money::MONEY_MAX).contains(price) {
            return Err(DomainError::field(
                format!("marketPrices.{i}.price"),
                "price must be an integer of at least 0",
            )
            .into());
        }
        entries.push(MarketPrice {
            market_id: market.clone(),
            currency,
            price: Cents(*price),
        });
    }
    Ok(entries)
}

/// Replaces a price's market entries, refusing to drop one a live subscription is priced from.
pub(crate) async fn replace_market_prices(
    tx: &mut dyn Tx,
    org: &OrgId,
    price: &PriceId,
    entries: &[MarketPrice],
) -> Result<(), AppError> {
    let current = current_market_prices(tx, org, price).await?;
    for dropped in current
        .iter()
        .filter(|c| !entries.iter().any(|e| e.market_id == c.market_id))
    {
        if tx
            .subscriptions_priced_by(org, price.as_str(), Some(&dropped.market_id), None)
            .await?
            > 0
        {
            return Err(AppError::PriceInUse("marketPrices".to_owned()));
        }
    }
    tx.replace_market_prices(org, price.as_str(), entries)
        .await?;
    Ok(())
}

/// A price's market entries now.
async fn current_market_prices(
    tx: &mut dyn Tx,
    org: &OrgId,
    price: &PriceId,
) -> Result<Vec<MarketPrice>, AppError> {
    let Some(found) = tx.price(org, price).await? else {
        return Ok(Vec::new());
    };
    Ok(plan_regional(tx, org, &found.plan_id)
        .await?
        .market_prices_of(price.as_str()))
}

/// `PUT /plans/{id}/regional`: a plan's rate for a currency, and entries by hand for the
/// listed prices and overage features; every other price and overage feature is derived.
pub struct SetPlanRegionalPricing {
    pub plan: String,
    pub currency: String,
    pub rate: ExchangeRate,
    /// (price id, amount, included balance).
    pub prices: Vec<(String, i64, Option<i64>)>,
    /// (feature id or code, overage unit price).
    pub features: Vec<(String, Option<i64>)>,
}

/// What a rate change answers.
#[derive(Debug, Clone)]
pub struct RegionalResult {
    pub plan_id: PlanId,
    pub currency: String,
    pub rate: ExchangeRate,
    pub prices_configured: usize,
    pub features_configured: usize,
}

async fn lock_plan(tx: &mut dyn Tx, org: &OrgId, id: &str) -> Result<Plan, AppError> {
    crate::catalog::lock_plan(tx, org, &crate::catalog::PlanRef::parse(id)).await
}

fn checked_currency(text: &str, field: &str) -> Result<String, AppError> {
    parse_currency(text)
        .ok_or_else(|| DomainError::field(field, "currency is not one Commet prices in").into())
}

fn checked_amount(value: i64, field: String) -> Result<i64, AppError> {
    if (0..=tally_domain::money::MONEY_MAX).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::field(field, "the amount must be an integer of at least 0").into())
    }
}

#[async_trait]
impl Command for SetPlanRegionalPricing {
    type Output = RegionalResult;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<RegionalResult, AppError> {
        let org = ctx.caller.org().clone();
        let plan = lock_plan(ctx.tx, &org, &self.plan).await?;
        let currency = checked_currency(&self.currency, "currency")?;
        let prices = ctx.tx.plan_prices(&org, &plan.id).await?;
        let features = ctx.tx.plan_features(&org, &plan.id).await?;
        ctx.tx
            .set_exchange_rate(&org, &plan.id, &currency, self.rate)
            .await?;
        for (i, (price_id, amount, balance)) in self.prices.iter().enumerate() {
            let Some(price) = prices.iter().find(|p| p.id.as_str() == price_id) else {
                return Err(AppError::NotFoundAt(
                    NotFound::Price,
                    format!("prices.{i}.priceId"),
                ));
            };
            let entry = RegionalPrice {
                currency: currency.clone(),
                price: Cents(checked_amount(*amount, format!("prices.{i}.price"))?),
                included_balance: balance
                    .map(|b| checked_amount(b, format!("prices.{i}.includedBalance")))
                    .transpose()?
                    .map(Rate),
                auto_synced: false,
            };
            ctx.tx
                .upsert_price_override(&org, price.id.as_str(), &entry)
                .await?;
        }
        for (i, (feature, unit)) in self.features.iter().enumerate() {
            let Some((_, found)) = features
                .iter()
                .find(|(_, f)| f.id.as_str() == feature || &f.code == feature)
            else {
                return Err(AppError::NotFoundAt(
                    NotFound::Feature,
                    format!("features.{i}.featureId"),
                ));
            };
            let entry = RegionalOverage {
                currency: currency.clone(),
                overage_unit_price: unit
                    .map(|u| checked_amount(u, format!("features.{i}.overageUnitPrice")))
                    .transpose()?
                    .map(Rate),
                auto_synced: false,
            };
            ctx.tx
                .upsert_feature_override(&org, &plan.id, found.id.as_str(), &entry)
                .await?;
        }
        let regional = plan_regional(ctx.tx, &org, &plan.id).await?;
        let features_configured = features
            .iter()
            .filter(|(pf, f)| {
                regional
                    .feature_regional_of(f.id.as_str(), pf.overage.unit_price)
                    .iter()
                    .any(|e| e.currency == currency)
            })
            .count();
        Ok(RegionalResult {
            plan_id: plan.id,
            currency,
            rate: self.rate,
            prices_configured: prices.len(),
            features_configured,
        })
    }
}

async fn plan_regional(
    db: &mut dyn Db,
    org: &OrgId,
    plan: &PlanId,
) -> Result<PlanRegional, AppError> {
    Ok(db
        .plan_regional(org, std::slice::from_ref(plan))
        .await?
        .into_iter()
        .next()
        .map(|(_, r)| r)
        .unwrap_or_default())
}

async fn lock_plan_price(
    tx: &mut dyn Tx,
    org: &OrgId,
    plan: &str,
    price: &str,
) -> Result<(Plan, PlanPrice), AppError> {
    let plan = lock_plan(tx, org, plan).await?;
    let price = match PriceId::parse(price) {
        Some(id) => tx.price(org, &id).await?,
        None => None,
    }
    .filter(|p| p.plan_id == plan.id)
    .ok_or(AppError::NotFound(NotFound::Price))?;
    Ok((plan, price))
}

/// `PUT /plans/{id}/prices/{priceId}/regional`: manual entries by currency.
pub struct SetPriceOverrides {
    pub plan: String,
    pub price: String,
    /// (currency, amount, included balance).
    pub overrides: Vec<(String, i64, Option<i64>)>,
}

#[async_trait]
impl Command for SetPriceOverrides {
    /// The price and all of its manual entries.
    type Output = (PriceId, Vec<RegionalPrice>);

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Self::Output, AppError> {
        if self.overrides.is_empty() || self.overrides.len() > OVERRIDES_MAX {
            return Err(DomainError::field(
                "overrides",
                format!("overrides holds 1 to {OVERRIDES_MAX} entries"),
            )
            .into());
        }
        let org = ctx.caller.org().clone();
        let (plan, price) = lock_plan_price(ctx.tx, &org, &self.plan, &self.price).await?;
        for (i, (currency, amount, balance)) in self.overrides.iter().enumerate() {
            let entry = RegionalPrice {
                currency: checked_currency(currency, &format!("overrides.{i}.currency"))?,
                price: Cents(checked_amount(*amount, format!("overrides.{i}.price"))?),
                included_balance: balance
                    .map(|b| checked_amount(b, format!("overrides.{i}.includedBalance")))
                    .transpose()?
                    .map(Rate),
                auto_synced: false,
            };
            ctx.tx
                .upsert_price_override(&org, price.id.as_str(), &entry)
                .await?;
        }
        let regional = plan_regional(ctx.tx, &org, &plan.id).await?;
        Ok((price.id.clone(), regional.overrides_of(price.id.as_str())))
    }
}

/// `DELETE /plans/{id}/prices/{priceId}/regional`: drops the manual entries; derived ones
/// remain where the plan has a rate.
pub struct DeletePriceOverrides {
    pub plan: String,
    pub price: String,
}

#[async_trait]
impl Command for DeletePriceOverrides {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org().clone();
        let (plan, price) = lock_plan_price(ctx.tx, &org, &self.plan, &self.price).await?;
        let regional = plan_regional(ctx.tx, &org, &plan.id).await?;
        for entry in regional.overrides_of(price.id.as_str()) {
            let derived = regional.rates.iter().any(|(c, _)| c == &entry.currency);
            if !derived
                && ctx
                    .tx
                    .subscriptions_priced_by(&org, price.id.as_str(), None, Some(&entry.currency))
                    .await?
                    > 0
            {
                return Err(AppError::PriceInUse("priceId".to_owned()));
            }
        }
        ctx.tx
            .delete_price_overrides(&org, price.id.as_str())
            .await?;
        Ok(())
    }
}

/// A new subscription's currency and source, from the customer's stored country
/// (`commerce.md` §2): `None` when it is billed at the base price in `usd`.
pub(crate) async fn resolve_pricing(
    tx: &mut dyn Tx,
    customer: &Customer,
    plan: &Plan,
    price: &PlanPrice,
) -> Result<Option<(SubscriptionPricing, Cents)>, AppError> {
    let country = customer
        .address
        .as_ref()
        .and_then(|a| a.get("country"))
        .and_then(|c| c.as_str())
        .and_then(parse_country);
    let Some(country) = country else {
        return Ok(None);
    };
    let org = &customer.org_id;
    let market = tx.market_of_country(org, &country).await?;
    let regional = plan_regional(tx, org, &plan.id).await?;
    let markets: Vec<Market> = market.into_iter().collect();
    let (currency, amount, source) = resolve_price(
        Some(&country),
        &markets,
        &regional.market_prices_of(price.id.as_str()),
        &regional.regional_prices_of(price),
        price.price,
    );
    Ok(match source {
        PriceSource::Base => None,
        PriceSource::Market(market_id) => Some((
            SubscriptionPricing {
                currency,
                market_id: Some(market_id),
            },
            amount,
        )),
        PriceSource::Regional => Some((
            SubscriptionPricing {
                currency,
                market_id: None,
            },
            amount,
        )),
    })
}

/// The currency and plan base a period of `subscription` is billed at: its pricing source,
/// re-read (a source gone falls to the next one down), else the price in `usd`.
pub(crate) async fn billed_base(
    tx: &mut dyn Db,
    subscription: &Subscription,
    price: &PlanPrice,
) -> Result<(String, Cents), AppError> {
    let org = &subscription.org_id;
    let Some(pricing) = tx
        .subscription_pricing(org, subscription.id.as_str())
        .await?
    else {
        return Ok((crate::invoicing::CURRENCY.to_owned(), price.price));
    };
    let regional = plan_regional(tx, org, &price.plan_id).await?;
    let source = match &pricing.market_id {
        Some(market) => PriceSource::Market(market.clone()),
        None => PriceSource::Regional,
    };
    Ok(renewal_price(
        &pricing.currency,
        &source,
        &regional.market_prices_of(price.id.as_str()),
        &regional.regional_prices_of(price),
        price.price,
    ))
}

/// The refusal for terms with no price in `currency`.
fn unpriced(currency: &str, why: Unpriced) -> AppError {
    AppError::MissingRegionalPrice {
        currency: currency.to_owned(),
        what: match why {
            Unpriced::Overage(code) => format!("{code}'s overage unit price"),
            Unpriced::WholeUnits => {
                "overage and balances (Tally bills them in currencies with two decimals only)"
                    .to_owned()
            }
        },
    }
}

/// What a price costs in a subscription's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalPrice {
    pub base: Cents,
    /// A balance plan's included balance (rate scale), in the currency.
    pub included_balance: Option<Rate>,
}

/// `price` in `currency` for a subscription priced from `market` (`commerce.md` §2): the
/// market's entry, else the regional entry in the currency; the balance it includes from that
/// regional entry. Anything without an entry in the currency is refused
/// (`missing_regional_price`).
pub(crate) async fn local_price(
    db: &mut dyn Db,
    org: &OrgId,
    currency: &str,
    market: Option<&str>,
    price: &PlanPrice,
) -> Result<LocalPrice, AppError> {
    if currency == crate::invoicing::CURRENCY {
        return Ok(LocalPrice {
            base: price.price,
            included_balance: price.included_balance,
        });
    }
    let regional = plan_regional(db, org, &price.plan_id).await?;
    let entry = regional
        .regional_prices_of(price)
        .into_iter()
        .find(|e| e.currency == currency);
    let missing = |what: &str| AppError::MissingRegionalPrice {
        currency: currency.to_owned(),
        what: what.to_owned(),
    };
    let base = market
        .and_then(|m| {
            regional
                .market_prices_of(price.id.as_str())
                .into_iter()
                .find(|p| p.market_id == m && p.currency == currency)
        })
        .map(|p| p.price)
        .or(entry.as_ref().map(|e| e.price))
        .ok_or_else(|| missing(&format!("the {} price", price.billing_interval.as_str())))?;
    let included_balance = match price.included_balance {
        None => None,
        Some(_) if !holds_rate_amounts(currency) => {
            return Err(unpriced(currency, Unpriced::WholeUnits));
        }
        Some(_) => Some(
            entry
                .and_then(|e| e.included_balance)
                .ok_or_else(|| missing("the included balance"))?,
        ),
    };
    Ok(LocalPrice {
        base,
        included_balance,
    })
}

/// `subscription`'s price in its own currency and pricing source (`local_price`).
pub(crate) async fn local_price_of(
    db: &mut dyn Db,
    subscription: &Subscription,
    price: &PlanPrice,
) -> Result<LocalPrice, AppError> {
    let market = match subscription.currency.as_str() {
        crate::invoicing::CURRENCY => None,
        _ => db
            .subscription_pricing(&subscription.org_id, subscription.id.as_str())
            .await?
            .and_then(|p| p.market_id),
    };
    local_price(
        db,
        &subscription.org_id,
        &subscription.currency,
        market.as_deref(),
        price,
    )
    .await
}

/// A plan's features as a subscription in `currency` would start them: every feature that
/// bills extra units with its regional overage unit price (`commerce.md` §2); one without an
/// entry in that currency is refused.
pub(crate) async fn local_features(
    db: &mut dyn Db,
    org: &OrgId,
    plan: &PlanId,
    currency: &str,
    features: Vec<FeatureSnapshot>,
) -> Result<Vec<FeatureSnapshot>, AppError> {
    if currency == crate::invoicing::CURRENCY {
        return Ok(features);
    }
    let regional = plan_regional(db, org, plan).await?;
    localized_features(features, &regional, currency).map_err(|why| unpriced(currency, why))
}

/// Writes `features` (a plan's, fresh from the catalog, as a new period gives them) as
/// `subscription`'s terms, in its currency (`relocalize`).
pub(crate) async fn hold_features(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    features: Vec<FeatureSnapshot>,
) -> Result<Vec<FeatureSnapshot>, AppError> {
    let features = relocalize(tx, subscription, features).await?;
    tx.replace_subscription_features(&subscription.org_id, &subscription.id, &features)
        .await?;
    Ok(features)
}

/// Catalog `features` in `subscription`'s currency: entries gone keep the price it holds,
/// features never priced in it bill no extra units (`relocalized_features`).
pub(crate) async fn relocalize(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    features: Vec<FeatureSnapshot>,
) -> Result<Vec<FeatureSnapshot>, AppError> {
    if subscription.currency == crate::invoicing::CURRENCY {
        return Ok(features);
    }
    let org = &subscription.org_id;
    let regional = plan_regional(tx, org, &subscription.plan_id).await?;
    let held = tx.subscription_features(org, &subscription.id).await?;
    Ok(relocalized_features(
        features,
        &regional,
        &subscription.currency,
        &held,
    ))
}

/// Decision: add-ons are priced in `usd` only (the contract gives them no regional prices); on
/// a subscription billed in another currency they are refused (`missing_regional_price`)
/// rather than billed in the wrong currency.
pub(crate) fn usd_only(subscription: &Subscription, what: &str) -> Result<(), AppError> {
    if subscription.currency == crate::invoicing::CURRENCY {
        Ok(())
    } else {
        Err(AppError::MissingRegionalPrice {
            currency: subscription.currency.clone(),
            what: format!("{what} (Tally prices them in usd only)"),
        })
    }
}

impl App {
    pub async fn markets(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<Market>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        Ok(db.markets(caller.org(), page).await?)
    }

    pub async fn market(&self, caller: &Caller, id: &str) -> Result<Market, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        db.market(caller.org(), id)
            .await?
            .ok_or(AppError::NotFound(NotFound::Market))
    }
}

/// A plan's regional pricing, for its views.
pub(crate) async fn regional_of_plans(
    db: &mut dyn Db,
    org: &OrgId,
    plans: &[PlanId],
) -> Result<Vec<(PlanId, PlanRegional)>, AppError> {
    Ok(db.plan_regional(org, plans).await?)
}
