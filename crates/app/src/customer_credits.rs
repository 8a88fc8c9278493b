//! Customer credits (`commerce.md` §5): money granted to a customer against future invoices,
//! listed and revoked per customer. Invoices use them (`invoicing::issue_invoice`); plan
//! changes leave their excess here (`plan_changes`).

use crate::customers::lock_customer_ref;
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::customer_credits::{CreditSource, CustomerCredit, check_grant};
use tally_domain::ids::CustomerCreditId;
use tally_domain::money::Cents;
use tally_domain::{Customer, CustomerRef, Timestamp};
use tally_store::Lock;

/// A grant as a caller asks for it; the currency is already known to Commet.
#[derive(Debug, Clone)]
pub struct NewCustomerCredit {
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub expires_at: Option<Timestamp>,
}

pub struct CreateCustomerCredit {
    pub customer: String,
    pub credit: NewCustomerCredit,
}

async fn lock_customer(ctx: &mut WriteCtx<'_>, reference: &str) -> Result<Customer, AppError> {
    let reference = CustomerRef::parse(reference).ok_or(AppError::NotFound(NotFound::Customer))?;
    lock_customer_ref(ctx.tx, ctx.caller.org(), &reference)
        .await?
        .ok_or(AppError::NotFound(NotFound::Customer))
}

#[async_trait]
impl Command for CreateCustomerCredit {
    type Output = CustomerCredit;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CustomerCredit, AppError> {
        let new = &self.credit;
        check_grant(new.amount, &new.reason, new.expires_at, ctx.now)?;
        let customer = lock_customer(ctx, &self.customer).await?;
        let credit = CustomerCredit {
            id: CustomerCreditId::from_ulid(ctx.ids.ulid()),
            org_id: customer.org_id.clone(),
            customer_id: customer.id.clone(),
            currency: new.currency.clone(),
            amount: Cents(new.amount),
            applied: Cents(0),
            reversed: Cents(0),
            revoked: Cents(0),
            reason: new.reason.trim().to_owned(),
            source: CreditSource::Api,
            expires_at: new.expires_at,
            created_at: ctx.now,
        };
        ctx.tx.insert_customer_credit(&credit).await?;
        Ok(credit)
    }
}

/// Revokes what is left of a grant; invoices it paid stay as they are.
pub struct RevokeCustomerCredit {
    pub customer: String,
    pub credit: String,
}

#[async_trait]
impl Command for RevokeCustomerCredit {
    /// The grant after the revocation, and the instant it was revoked at.
    type Output = (CustomerCredit, Timestamp);

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(CustomerCredit, Timestamp), AppError> {
        let customer = lock_customer(ctx, &self.customer).await?;
        let not_found = || AppError::NotFoundAt(NotFound::CustomerCredit, "creditId".to_owned());
        let id = CustomerCreditId::parse(&self.credit).ok_or_else(not_found)?;
        let credit = ctx
            .tx
            .customer_credit(&customer.org_id, &customer.id, &id, Lock::ForUpdate)
            .await?
            .ok_or_else(not_found)?;
        let revoked = credit.revoke(ctx.now);
        if revoked != credit {
            ctx.tx
                .revoke_customer_credit(&customer.org_id, &id, revoked.revoked)
                .await?;
        }
        Ok((revoked, ctx.now))
    }
}

impl App {
    /// Every grant of the customer, newest first.
    pub async fn customer_credits(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<(Vec<CustomerCredit>, Timestamp), AppError> {
        let org = caller.org();
        let (mut db, now) = self.reader(caller).await?;
        let customer = crate::customers::find_customer(&mut *db, org, customer).await?;
        let mut credits = db
            .customer_credits(org, &customer.id, None, Lock::None)
            .await?;
        credits.reverse();
        Ok((credits, now))
    }
}
