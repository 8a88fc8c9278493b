//! Offers, promo codes and offers placed on subscriptions (`commerce.md` §4).

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::offers::{Offer, OfferApplication, PromoCode};
use tally_domain::page::{Page, PageRequest};

#[async_trait]
pub trait Offers {
    async fn insert_offer(&mut self, offer: &Offer) -> Result<(), StoreError>;

    /// Replaces every field of the organization's offer `offer.id`.
    async fn update_offer(&mut self, offer: &Offer) -> Result<(), StoreError>;

    /// An offer, deleted or not.
    async fn offer(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<Offer>, StoreError>;

    /// Offers that are not deleted, newest first; `active` filters on the flag.
    async fn offers(
        &mut self,
        org: &OrgId,
        active: Option<bool>,
        page: &PageRequest,
    ) -> Result<Page<Offer>, StoreError>;

    /// Inserts a code; `Conflict { constraint: "promo_codes_code" }` when the organization
    /// has it already in any case.
    async fn insert_promo_code(&mut self, code: &PromoCode) -> Result<(), StoreError>;

    async fn update_promo_code(&mut self, code: &PromoCode) -> Result<(), StoreError>;

    /// A code by its `prc_…` id, or by the code itself in any case.
    async fn promo_code(
        &mut self,
        org: &OrgId,
        id_or_code: &str,
        lock: Lock,
    ) -> Result<Option<PromoCode>, StoreError>;

    /// Codes, newest first.
    async fn promo_codes(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<PromoCode>, StoreError>;

    async fn insert_offer_application(
        &mut self,
        application: &OfferApplication,
    ) -> Result<(), StoreError>;

    /// Stores when `application` was ended early.
    async fn end_offer_application(
        &mut self,
        application: &OfferApplication,
    ) -> Result<(), StoreError>;

    /// Attaches `offer` as the price's introductory offer, or (`None`) detaches it.
    async fn set_price_intro_offer(
        &mut self,
        org: &OrgId,
        price_id: &str,
        offer: Option<&str>,
    ) -> Result<(), StoreError>;

    /// The introductory offers of `prices` that have one: (price id, offer).
    async fn price_intro_offers(
        &mut self,
        org: &OrgId,
        prices: &[String],
    ) -> Result<Vec<(String, Offer)>, StoreError>;

    /// Whether some price has `offer` as its introductory offer.
    async fn offer_is_intro(&mut self, org: &OrgId, offer: &str) -> Result<bool, StoreError>;

    /// The offers placed on a subscription, oldest first.
    async fn offer_applications(
        &mut self,
        org: &OrgId,
        subscription: &str,
    ) -> Result<Vec<OfferApplication>, StoreError>;
}
