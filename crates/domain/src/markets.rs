//! Markets and regional prices (`commerce.md` §2, §7): a market is a set of countries; a price
//! may name its amount per market, and per currency (entered by hand, or derived from the plan's
//! exchange rate for that currency). A subscription's currency and amount are resolved once, at
//! creation, from the customer's country.

use crate::customer::{METADATA_KEYS_MAX, Metadata};
use crate::money::{Cents, Rate, currency_exponent};
use crate::subscription::FeatureSnapshot;
use crate::{DomainError, OrgId, Timestamp};

pub const NAME_CHARS_MAX: usize = 100;
pub const COUNTRIES_MAX: usize = 250;
/// Exchange rates are kept in millionths: six decimals are exact, and the arithmetic stays in
/// integers.
pub const RATE_SCALE: i64 = 1_000_000;
/// The largest exchange rate, in millionths (10⁶).
pub const RATE_MAX: i64 = 1_000_000 * RATE_SCALE;
/// Manual entries one price holds at most.
pub const OVERRIDES_MAX: usize = 21;

/// ISO 3166-1 alpha-2, in order.
const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH \
BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR \
GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR \
KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV \
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE \
RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL \
TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// `text` as an upper-case country code, when it is one.
pub fn parse_country(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    (upper.len() == 2 && COUNTRY_CODES.split(' ').any(|c| c == upper)).then_some(upper)
}

/// The currency a country pays in, where Commet prices in one (`commerce.md` §2).
pub fn country_currency(country: &str) -> Option<&'static str> {
    const EURO: [&str; 20] = [
        "AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV",
        "MT", "NL", "PT", "SI", "SK",
    ];
    if EURO.contains(&country) {
        return Some("eur");
    }
    Some(match country {
        "US" => "usd",
        "AR" => "ars",
        "BR" => "brl",
        "CL" => "clp",
        "CO" => "cop",
        "PE" => "pen",
        "UY" => "uyu",
        "PY" => "pyg",
        "BO" => "bob",
        "MX" => "mxn",
        "CA" => "cad",
        "GB" => "gbp",
        "JP" => "jpy",
        "CN" => "cny",
        "KR" => "krw",
        "HK" => "hkd",
        "SG" => "sgd",
        "TW" => "twd",
        "IN" => "inr",
        "TH" => "thb",
        _ => return None,
    })
}

/// A market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub id: String,
    pub org_id: OrgId,
    pub name: String,
    /// Upper case, as first given, without repeats.
    pub country_codes: Vec<String>,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A market's name (1–100 characters), countries (1–250 valid codes, any case) and metadata.
pub fn check_market(
    name: &str,
    countries: &[String],
    metadata: Option<&Metadata>,
) -> Result<(String, Vec<String>), DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_CHARS_MAX {
        return Err(DomainError::field(
            "name",
            format!("name must be 1 to {NAME_CHARS_MAX} characters"),
        ));
    }
    if countries.is_empty() || countries.len() > COUNTRIES_MAX {
        return Err(DomainError::field(
            "countryCodes",
            format!("countryCodes holds 1 to {COUNTRIES_MAX} countries"),
        ));
    }
    let mut codes: Vec<String> = Vec::with_capacity(countries.len());
    for (i, text) in countries.iter().enumerate() {
        let Some(code) = parse_country(text) else {
            return Err(DomainError::field(
                format!("countryCodes.{i}"),
                format!("{text:?} is not an ISO 3166-1 alpha-2 country code"),
            ));
        };
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    if metadata.is_some_and(|m| m.len() > METADATA_KEYS_MAX) {
        return Err(DomainError::field(
            "metadata",
            format!("metadata may have at most {METADATA_KEYS_MAX} keys"),
        ));
    }
    Ok((name.to_owned(), codes))
}

/// A price's amount in one market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketPrice {
    pub market_id: String,
    pub currency: String,
    pub price: Cents,
}

/// A price's amount in one currency: entered by hand, or derived from the plan's rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionalPrice {
    pub currency: String,
    pub price: Cents,
    pub included_balance: Option<Rate>,
    pub auto_synced: bool,
}

/// An overage feature's unit price in one currency (rate scale).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionalOverage {
    pub currency: String,
    pub overage_unit_price: Option<Rate>,
    pub auto_synced: bool,
}

/// A plan's exchange rate for one currency, in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeRate {
    pub rate: i64,
}

impl ExchangeRate {
    /// A rate as a request sends it (a JSON number): more than 0, at most 10⁶, kept to six
    /// decimals.
    pub fn parse(value: f64) -> Result<Self, DomainError> {
        let scaled = (value * RATE_SCALE as f64).round();
        if !value.is_finite() || scaled < 1.0 || scaled > RATE_MAX as f64 {
            return Err(DomainError::field(
                "exchangeRate",
                "exchangeRate must be more than 0 and at most 1000000",
            ));
        }
        Ok(Self {
            rate: scaled as i64,
        })
    }

    /// The rate as a JSON number: an integer when it is whole.
    pub fn as_number(self) -> serde_json::Value {
        if self.rate % RATE_SCALE == 0 {
            (self.rate / RATE_SCALE).into()
        } else {
            (self.rate as f64 / RATE_SCALE as f64).into()
        }
    }

    /// `value · rate · 10^(scale)`, rounded half away from zero (integers only).
    fn apply(self, value: i64, exponent_shift: i32) -> i64 {
        let mut numerator = i128::from(value) * i128::from(self.rate);
        let mut denominator = i128::from(RATE_SCALE);
        if exponent_shift >= 0 {
            numerator *= 10_i128.pow(exponent_shift.unsigned_abs());
        } else {
            denominator *= 10_i128.pow(exponent_shift.unsigned_abs());
        }
        let half = denominator / 2;
        let rounded = if numerator >= 0 {
            (numerator + half) / denominator
        } else {
            (numerator - half) / denominator
        };
        i64::try_from(rounded).unwrap_or(i64::MAX)
    }

    /// A US-cent price in `currency`'s minor units: `round(base · r · 10^(e − 2))`.
    pub fn price(self, base: Cents, currency: &str) -> Cents {
        let shift = i32::try_from(currency_exponent(currency)).unwrap_or(2) - 2;
        Cents(self.apply(base.0, shift))
    }

    /// A rate-scale amount (a balance, a unit price) converted: `round(value · r)`.
    pub fn rate_amount(self, value: Rate) -> Rate {
        Rate(self.apply(value.0, 0))
    }
}

/// A price's regional entries: the manual ones, then one derived from each plan rate whose
/// currency has no manual entry, by currency.
pub fn regional_prices(
    base: Cents,
    included_balance: Option<Rate>,
    manual: &[RegionalPrice],
    rates: &[(String, ExchangeRate)],
) -> Vec<RegionalPrice> {
    let mut all: Vec<RegionalPrice> = manual.to_vec();
    for (currency, rate) in rates {
        if all.iter().any(|e| &e.currency == currency) {
            continue;
        }
        all.push(RegionalPrice {
            currency: currency.clone(),
            price: rate.price(base, currency),
            included_balance: included_balance.map(|b| rate.rate_amount(b)),
            auto_synced: true,
        });
    }
    all.sort_by(|a, b| a.currency.cmp(&b.currency));
    all
}

/// Where a subscription's currency and amount come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceSource {
    /// The price's entry for the market holding the customer's country.
    Market(String),
    /// The price's regional entry in the country's currency.
    Regional,
    /// The base price, in US dollars.
    Base,
}

/// The currency, amount and source of a price for a customer in `country` (`commerce.md` §2):
/// the market's entry, else the country currency's regional entry, else the base in `usd`.
pub fn resolve_price(
    country: Option<&str>,
    markets: &[Market],
    market_prices: &[MarketPrice],
    regional: &[RegionalPrice],
    base: Cents,
) -> (String, Cents, PriceSource) {
    if let Some(country) = country {
        let market = markets
            .iter()
            .find(|m| m.country_codes.iter().any(|c| c == country));
        if let Some(entry) = market.and_then(|m| market_prices.iter().find(|p| p.market_id == m.id))
        {
            return (
                entry.currency.clone(),
                entry.price,
                PriceSource::Market(entry.market_id.clone()),
            );
        }
        if let Some(currency) = country_currency(country).filter(|c| *c != "usd")
            && let Some(entry) = regional.iter().find(|e| e.currency == currency)
        {
            return (entry.currency.clone(), entry.price, PriceSource::Regional);
        }
    }
    ("usd".to_owned(), base, PriceSource::Base)
}

/// The amount a renewal bills for a subscription in `currency` from `source`, re-read; a
/// source gone falls to the next one down (the regional entry, then the base in `usd`).
pub fn renewal_price(
    currency: &str,
    source: &PriceSource,
    market_prices: &[MarketPrice],
    regional: &[RegionalPrice],
    base: Cents,
) -> (String, Cents) {
    if let PriceSource::Market(market) = source
        && let Some(entry) = market_prices.iter().find(|p| &p.market_id == market)
    {
        return (entry.currency.clone(), entry.price);
    }
    if currency != "usd"
        && let Some(entry) = regional.iter().find(|e| e.currency == currency)
    {
        return (entry.currency.clone(), entry.price);
    }
    ("usd".to_owned(), base)
}

/// A plan's pricing beyond its base: exchange rates, and per price its market entries and its
/// entries entered by hand, per feature its overage entries entered by hand. Derived entries are
/// computed from the rates when read (`regional_prices`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanRegional {
    pub rates: Vec<(String, ExchangeRate)>,
    /// (price id, entry).
    pub market_prices: Vec<(String, MarketPrice)>,
    /// (price id, manual entry).
    pub price_overrides: Vec<(String, RegionalPrice)>,
    /// (feature id, manual entry).
    pub feature_overrides: Vec<(String, RegionalOverage)>,
}

impl PlanRegional {
    pub fn market_prices_of(&self, price_id: &str) -> Vec<MarketPrice> {
        self.market_prices
            .iter()
            .filter(|(id, _)| id == price_id)
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    pub fn overrides_of(&self, price_id: &str) -> Vec<RegionalPrice> {
        self.price_overrides
            .iter()
            .filter(|(id, _)| id == price_id)
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// Every regional entry of a price: manual, then derived.
    pub fn regional_prices_of(&self, price: &crate::catalog::PlanPrice) -> Vec<RegionalPrice> {
        regional_prices(
            price.price,
            price.included_balance,
            &self.overrides_of(price.id.as_str()),
            &self.rates,
        )
    }

    /// Every regional entry of an overage feature whose base unit price is `unit_price`: the
    /// manual ones, then one derived from each rate.
    pub fn feature_regional_of(
        &self,
        feature_id: &str,
        unit_price: Option<Rate>,
    ) -> Vec<RegionalOverage> {
        let mut all: Vec<RegionalOverage> = self
            .feature_overrides
            .iter()
            .filter(|(id, _)| id == feature_id)
            .map(|(_, entry)| entry.clone())
            .collect();
        if let Some(unit) = unit_price {
            for (currency, rate) in &self.rates {
                if !all.iter().any(|e| &e.currency == currency) {
                    all.push(RegionalOverage {
                        currency: currency.clone(),
                        overage_unit_price: Some(rate.rate_amount(unit)),
                        auto_synced: true,
                    });
                }
            }
        }
        all.sort_by(|a, b| a.currency.cmp(&b.currency));
        all
    }
}

/// Why a subscription's terms have no price in its currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unpriced {
    /// The feature (by code) bills extra units and has no entry in the currency.
    Overage(String),
    /// The currency has no minor unit: Tally bills rate-scale amounts (overage, balances) in
    /// currencies with two decimals only.
    WholeUnits,
}

/// Whether a subscription in `currency` can hold rate-scale amounts (overage unit prices, a
/// prepaid balance): every rate-scale figure is billed through cents (÷ 100), which is right
/// only for currencies with two decimals.
pub fn holds_rate_amounts(currency: &str) -> bool {
    currency_exponent(currency) == 2
}

/// `features` as a subscription in `currency` holds them (`commerce.md` §2): every feature
/// that bills extra units carries its regional unit price in that currency. In `usd` they are
/// the plan's own. A feature with no entry is refused, naming it.
pub fn localized_features(
    features: Vec<FeatureSnapshot>,
    regional: &PlanRegional,
    currency: &str,
) -> Result<Vec<FeatureSnapshot>, Unpriced> {
    if currency == "usd" {
        return Ok(features);
    }
    features
        .into_iter()
        .map(|mut feature| {
            if !bills_overage(&feature) {
                return Ok(feature);
            }
            if !holds_rate_amounts(currency) {
                return Err(Unpriced::WholeUnits);
            }
            feature.overage.unit_price = regional_unit_price(&feature, regional, currency)
                .ok_or_else(|| Unpriced::Overage(feature.code.clone()))
                .map(Some)?;
            Ok(feature)
        })
        .collect()
}

/// `features` localized as `localized_features` does, for a subscription that already holds
/// terms in `currency` (`held`): a feature whose entry is gone keeps the unit price it held,
/// and one that never had an entry bills no extra units (`overage.enabled` off), so a renewal
/// never stops on a price the operator has not entered yet.
pub fn relocalized_features(
    features: Vec<FeatureSnapshot>,
    regional: &PlanRegional,
    currency: &str,
    held: &[FeatureSnapshot],
) -> Vec<FeatureSnapshot> {
    if currency == "usd" {
        return features;
    }
    features
        .into_iter()
        .map(|mut feature| {
            if !bills_overage(&feature) {
                return feature;
            }
            let entry = holds_rate_amounts(currency)
                .then(|| regional_unit_price(&feature, regional, currency))
                .flatten()
                .or_else(|| {
                    held.iter()
                        .find(|h| h.feature_id == feature.feature_id && bills_overage(h))
                        .and_then(|h| h.overage.unit_price)
                });
            match entry {
                Some(price) => feature.overage.unit_price = Some(price),
                None => feature.overage.enabled = false,
            }
            feature
        })
        .collect()
}

fn bills_overage(feature: &FeatureSnapshot) -> bool {
    feature.overage.enabled && feature.overage.unit_price.is_some()
}

fn regional_unit_price(
    feature: &FeatureSnapshot,
    regional: &PlanRegional,
    currency: &str,
) -> Option<Rate> {
    regional
        .feature_regional_of(feature.feature_id.as_str(), feature.overage.unit_price)
        .into_iter()
        .find(|e| e.currency == currency)
        .and_then(|e| e.overage_unit_price)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_prices_follow_the_contracts_examples() {
        let five = ExchangeRate::parse(5.0).unwrap();
        assert_eq!(five.price(Cents(4_900), "brl"), Cents(24_500));
        assert_eq!(five.rate_amount(Rate(250_000)), Rate(1_250_000));
        let yen = ExchangeRate::parse(150.0).unwrap();
        assert_eq!(yen.price(Cents(4_900), "jpy"), Cents(7_350));
        assert_eq!(
            ExchangeRate::parse(0.5).unwrap().as_number(),
            serde_json::json!(0.5)
        );
        assert_eq!(five.as_number(), serde_json::json!(5));
        assert!(ExchangeRate::parse(0.0).is_err());
        assert!(ExchangeRate::parse(1_000_001.0).is_err());
    }

    fn seats(id: &str, unit: Option<i64>) -> FeatureSnapshot {
        use crate::catalog::{FeatureId, FeatureType, Overage};
        FeatureSnapshot {
            feature_id: FeatureId::from_stored(id.into()),
            code: id.trim_start_matches("ftr_").into(),
            name: id.into(),
            feature_type: FeatureType::Seats,
            unit_name: None,
            enabled: true,
            included_amount: 3,
            unlimited: false,
            overage: Overage {
                enabled: unit.is_some(),
                unit_price: unit.map(Rate),
            },
            credits_per_unit: None,
            pricing_mode: "fixed".into(),
        }
    }

    #[test]
    fn terms_take_the_regional_overage_and_refuse_what_has_none() {
        let regional = PlanRegional {
            rates: vec![("brl".into(), ExchangeRate::parse(5.0).unwrap())],
            feature_overrides: vec![(
                "ftr_viewer".into(),
                RegionalOverage {
                    currency: "eur".into(),
                    overage_unit_price: Some(Rate(90_000)),
                    auto_synced: false,
                },
            )],
            ..PlanRegional::default()
        };
        let features = || vec![seats("ftr_editor", Some(250_000)), seats("ftr_free", None)];
        let usd = localized_features(features(), &regional, "usd").unwrap();
        assert_eq!(usd, features());
        // Derived from the rate: 25.00 × 5; features that bill nothing stay as they are.
        let brl = localized_features(features(), &regional, "brl").unwrap();
        assert_eq!(brl[0].overage.unit_price, Some(Rate(1_250_000)));
        assert_eq!(brl[1], seats("ftr_free", None));
        assert_eq!(
            localized_features(features(), &regional, "eur"),
            Err(Unpriced::Overage("editor".into()))
        );
        let eur = vec![seats("ftr_viewer", Some(100_000))];
        assert_eq!(
            localized_features(eur, &regional, "eur").unwrap()[0]
                .overage
                .unit_price,
            Some(Rate(90_000))
        );
        let yen = PlanRegional {
            rates: vec![("jpy".into(), ExchangeRate::parse(150.0).unwrap())],
            ..PlanRegional::default()
        };
        assert_eq!(
            localized_features(features(), &yen, "jpy"),
            Err(Unpriced::WholeUnits)
        );
        assert!(localized_features(vec![seats("ftr_free", None)], &yen, "jpy").is_ok());
    }

    #[test]
    fn a_renewal_keeps_the_held_price_and_bills_nothing_never_priced() {
        let regional = PlanRegional::default();
        let held = vec![{
            let mut editor = seats("ftr_editor", Some(1_250_000));
            editor.included_amount = 1;
            editor
        }];
        let fresh = vec![
            seats("ftr_editor", Some(250_000)),
            seats("ftr_viewer", Some(100_000)),
        ];
        let renewed = relocalized_features(fresh, &regional, "brl", &held);
        assert_eq!(renewed[0].overage.unit_price, Some(Rate(1_250_000)));
        // The catalog's own figures (the included amount) are the fresh ones.
        assert_eq!(renewed[0].included_amount, 3);
        assert!(!renewed[1].overage.enabled);
    }

    #[test]
    fn countries_are_checked_upper_cased_and_kept_once() {
        let (_, codes) =
            check_market("Argentina", &["ar".into(), "AR".into(), "uy".into()], None).unwrap();
        assert_eq!(codes, ["AR", "UY"]);
        assert!(check_market("x", &["XX".into()], None).is_err());
        assert!(check_market("x", &[], None).is_err());
        assert_eq!(country_currency("DE"), Some("eur"));
        assert_eq!(country_currency("ZA"), None);
    }

    #[test]
    fn a_market_entry_wins_then_the_regional_entry_then_the_base() {
        let market = Market {
            id: "pmg_1".into(),
            org_id: OrgId::new("org"),
            name: "Argentina".into(),
            country_codes: vec!["AR".into()],
            metadata: Metadata::new(),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        let market_prices = [MarketPrice {
            market_id: "pmg_1".into(),
            currency: "ars".into(),
            price: Cents(6_490_000),
        }];
        let rates = [("brl".to_owned(), ExchangeRate::parse(5.0).unwrap())];
        let regional = regional_prices(Cents(4_900), None, &[], &rates);
        let resolve = |country| {
            resolve_price(
                country,
                std::slice::from_ref(&market),
                &market_prices,
                &regional,
                Cents(4_900),
            )
        };
        assert_eq!(
            resolve(Some("AR")),
            (
                "ars".into(),
                Cents(6_490_000),
                PriceSource::Market("pmg_1".into())
            )
        );
        assert_eq!(
            resolve(Some("BR")),
            ("brl".into(), Cents(24_500), PriceSource::Regional)
        );
        assert_eq!(
            resolve(None),
            ("usd".into(), Cents(4_900), PriceSource::Base)
        );
        assert_eq!(
            resolve(Some("MX")),
            ("usd".into(), Cents(4_900), PriceSource::Base)
        );
    }
}
