//! Customer operations (`catalog.md` §2): create (idempotent on externalId), batch create, get
//! by id or externalId, list, update.

use crate::outbox::{Outbox, customer_data};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::customer::{CustomerPatch, NewCustomer};
use tally_domain::page::{Page, PageRequest};
use tally_domain::{Customer, CustomerId, CustomerRef, DomainError};
use tally_store::{Db, Lock, StoreError, Tx, constraints};

/// Creates a customer, or returns the existing one with the same externalId unchanged.
pub struct CreateCustomer(pub NewCustomer);

#[async_trait]
impl Command for CreateCustomer {
    type Output = Customer;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Customer, AppError> {
        create_one(ctx, &self.0).await
    }
}

/// One batch item: already validated, or refused at parse time with its reason.
pub type BatchItem = Result<NewCustomer, DomainError>;

/// The outcome of one item of a batch, in submission order.
pub type BatchOutcome = Result<Customer, DomainError>;

/// Creates each valid item like `CreateCustomer`; invalid items are reported, not fatal.
pub struct CreateCustomerBatch(pub Vec<BatchItem>);

#[async_trait]
impl Command for CreateCustomerBatch {
    type Output = Vec<BatchOutcome>;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Vec<BatchOutcome>, AppError> {
        let mut outcomes = Vec::with_capacity(self.0.len());
        for item in &self.0 {
            outcomes.push(match item {
                Ok(new) => Ok(create_one(ctx, new).await?),
                Err(refusal) => Err(refusal.clone()),
            });
        }
        Ok(outcomes)
    }
}

pub(crate) async fn create_one(
    ctx: &mut WriteCtx<'_>,
    new: &NewCustomer,
) -> Result<Customer, AppError> {
    let org = ctx.caller.org();
    if let Some(external_id) = new.external_id.as_deref()
        && let Some(existing) = ctx
            .tx
            .customer_by_external_id(org, external_id, Lock::ForUpdate)
            .await?
    {
        return Ok(existing);
    }
    let customer =
        new.clone()
            .into_customer(CustomerId::from_ulid(ctx.ids.ulid()), org.clone(), ctx.now);
    match ctx.tx.insert_customer(&customer).await {
        Ok(()) => {
            let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
            outbox.push("customer.created", customer_data(&customer));
            ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
            Ok(customer)
        }
        // A concurrent create with the same externalId won: run again and return its customer.
        Err(error) if error.is_conflict_on(constraints::CUSTOMER_EXTERNAL_ID) => {
            Err(AppError::Store(StoreError::Retry))
        }
        Err(error) => Err(error.into()),
    }
}

/// Changes only the fields the patch names; an externalId taken by another customer is a
/// `Duplicate`.
pub struct UpdateCustomer {
    pub customer: CustomerRef,
    pub patch: CustomerPatch,
}

#[async_trait]
impl Command for UpdateCustomer {
    type Output = Customer;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Customer, AppError> {
        let org = ctx.caller.org();
        let current = lock_customer_ref(ctx.tx, org, &self.customer)
            .await?
            .ok_or(AppError::NotFound(NotFound::Customer))?;
        if let Some(external_id) = self.patch.external_id() {
            let holder = ctx
                .tx
                .customer_by_external_id(org, external_id, Lock::ForUpdate)
                .await?;
            if holder.is_some_and(|other| other.id != current.id) {
                return Err(AppError::Duplicate {
                    field: "externalId",
                });
            }
        }
        let (updated, changed) = self.patch.apply(&current, ctx.now);
        if changed {
            match ctx.tx.update_customer(&updated).await {
                Ok(()) => {
                    let mut outbox = Outbox::new(ctx.ids, &updated, ctx.now);
                    outbox.push("customer.updated", customer_data(&updated));
                    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
                }
                Err(error) if error.is_conflict_on(constraints::CUSTOMER_EXTERNAL_ID) => {
                    return Err(AppError::Duplicate {
                        field: "externalId",
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(updated)
    }
}

/// Locks a customer named by `cus_…` id or external id.
pub(crate) async fn lock_customer_ref(
    tx: &mut dyn Tx,
    org: &OrgId,
    customer: &CustomerRef,
) -> Result<Option<Customer>, AppError> {
    Ok(match customer {
        CustomerRef::Id(id) => tx.customer(org, id, Lock::ForUpdate).await?,
        CustomerRef::External(external) => {
            tx.customer_by_external_id(org, external, Lock::ForUpdate)
                .await?
        }
    })
}

/// `App::customer` on a connection the operation already holds.
pub(crate) async fn find_customer(
    db: &mut dyn Db,
    org: &OrgId,
    reference: &str,
) -> Result<Customer, AppError> {
    let found = match CustomerRef::parse(reference) {
        Some(CustomerRef::Id(id)) => db.customer(org, &id, Lock::None).await?,
        Some(CustomerRef::External(external)) => {
            db.customer_by_external_id(org, &external, Lock::None)
                .await?
        }
        None => None,
    };
    found.ok_or(AppError::NotFound(NotFound::Customer))
}

/// `find_customer`, for a request field named `customerId`: not found names that param.
pub(crate) async fn find_customer_for_param(
    db: &mut dyn Db,
    org: &OrgId,
    reference: &str,
) -> Result<Customer, AppError> {
    find_customer(db, org, reference)
        .await
        .map_err(|error| match error {
            AppError::NotFound(NotFound::Customer) => {
                AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned())
            }
            other => other,
        })
}

impl App {
    /// Finds a customer by `cus_…` id, falling back to the externalId (`catalog.md` §2).
    pub async fn customer(&self, caller: &Caller, reference: &str) -> Result<Customer, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        find_customer(&mut *db, caller.org(), reference).await
    }

    /// `customer`, for a request field named `customerId`: not found names that param.
    pub async fn customer_for_param(
        &self,
        caller: &Caller,
        reference: &str,
    ) -> Result<Customer, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        find_customer_for_param(&mut *db, caller.org(), reference).await
    }

    /// The dashboard's search: customers whose id, externalId or e-mail is exactly `text`.
    pub async fn search_customers(
        &self,
        caller: &Caller,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Customer>, AppError> {
        Ok(self
            .reader(caller)
            .await?
            .0
            .search_customers(caller.org(), text.trim(), limit)
            .await?)
    }

    pub async fn customers(
        &self,
        caller: &Caller,
        external_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Customer>, AppError> {
        Ok(self
            .reader(caller)
            .await?
            .0
            .customers(caller.org(), external_id, page)
            .await?)
    }
}
