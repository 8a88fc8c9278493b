//! Customers: who a subscription bills, referenced by `cus_…` id or the merchant's externalId.
//!
//! Contract: `catalog.md` §2. Validation rules here are the contract's [decided] ones.

use crate::{CustomerId, DomainError, FieldError, OrgId, Timestamp};

/// Merchant-defined data, stored and returned as received (`wire.md` §2.3).
pub type Metadata = serde_json::Map<String, serde_json::Value>;

pub const EXTERNAL_ID_CHARS_MAX: usize = 255;
pub const METADATA_KEYS_MAX: usize = 50;
pub const TEXT_FIELD_CHARS_MAX: usize = 255;
pub const BATCH_SIZE_MAX: usize = 100;

/// The timezones the SDK types allow (`catalog.md` §2).
pub const TIMEZONES: [&str; 21] = [
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Buenos_Aires",
    "America/Santiago",
    "America/Bogota",
    "America/Lima",
    "America/Asuncion",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Dubai",
    "Australia/Sydney",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub org_id: OrgId,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub email: String,
    pub tax_document: Option<String>,
    pub timezone: Option<String>,
    pub metadata: Option<Metadata>,
    /// Stored but never echoed (`catalog.md` §2: no address field is returned).
    pub address: Option<serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A caller's reference to a customer: our id, or their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(CustomerId),
    External(String),
}

impl CustomerRef {
    /// `cus_…` is always our id (external ids may not start with `cus_`); anything else is an
    /// external id.
    pub fn parse(text: &str) -> Option<CustomerRef> {
        if text.is_empty() {
            return None;
        }
        if text.starts_with(CustomerId::PREFIX) {
            return CustomerId::parse(text).map(CustomerRef::Id);
        }
        Some(CustomerRef::External(text.to_owned()))
    }
}

/// The fields of a customer as the caller supplied them, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFields {
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub tax_document: Option<String>,
    pub timezone: Option<String>,
    pub metadata: Option<Metadata>,
    pub address: Option<serde_json::Value>,
}

/// A validated create request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomer {
    pub email: String,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub tax_document: Option<String>,
    pub timezone: Option<String>,
    pub metadata: Option<Metadata>,
    pub address: Option<serde_json::Value>,
}

impl NewCustomer {
    /// Validates a create request; every problem is reported at once, each with its field.
    pub fn parse(fields: CustomerFields) -> Result<Self, DomainError> {
        let mut problems = Vec::new();
        let email = match fields.email.as_deref() {
            None => {
                problems.push(FieldError::new("email", "email is required"));
                String::new()
            }
            Some(email) => {
                check_email(email, &mut problems);
                email.to_owned()
            }
        };
        check_optional_fields(&fields, &mut problems);
        if !problems.is_empty() {
            return Err(DomainError::Validation(problems));
        }
        Ok(Self {
            email,
            external_id: fields.external_id,
            full_name: fields.full_name,
            tax_document: fields.tax_document,
            timezone: fields.timezone,
            metadata: fields.metadata,
            address: fields.address,
        })
    }

    pub fn into_customer(self, id: CustomerId, org_id: OrgId, now: Timestamp) -> Customer {
        Customer {
            id,
            org_id,
            external_id: self.external_id,
            full_name: self.full_name,
            email: self.email,
            tax_document: self.tax_document,
            timezone: self.timezone,
            metadata: self.metadata,
            address: self.address,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A validated update: only the fields present change (`catalog.md` §2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch(CustomerFields);

impl CustomerPatch {
    pub fn parse(fields: CustomerFields) -> Result<Self, DomainError> {
        let mut problems = Vec::new();
        if let Some(email) = fields.email.as_deref() {
            check_email(email, &mut problems);
        }
        check_optional_fields(&fields, &mut problems);
        if !problems.is_empty() {
            return Err(DomainError::Validation(problems));
        }
        Ok(Self(fields))
    }

    /// Applies the patch. Returns the updated customer and whether anything changed, which
    /// decides whether `updatedAt` moves (and, later, whether `customer.updated` fires).
    pub fn apply(&self, customer: &Customer, now: Timestamp) -> (Customer, bool) {
        let patch = &self.0;
        let mut next = customer.clone();
        if let Some(email) = &patch.email {
            next.email.clone_from(email);
        }
        if patch.external_id.is_some() {
            next.external_id.clone_from(&patch.external_id);
        }
        if patch.full_name.is_some() {
            next.full_name.clone_from(&patch.full_name);
        }
        if patch.tax_document.is_some() {
            next.tax_document.clone_from(&patch.tax_document);
        }
        if patch.timezone.is_some() {
            next.timezone.clone_from(&patch.timezone);
        }
        // Decision: metadata replaces the whole object (`catalog.md` §2).
        if patch.metadata.is_some() {
            next.metadata.clone_from(&patch.metadata);
        }
        if patch.address.is_some() {
            next.address.clone_from(&patch.address);
        }
        let changed = next != *customer;
        if changed {
            next.updated_at = now;
        }
        (next, changed)
    }

    pub fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
}

fn check_email(email: &str, problems: &mut Vec<FieldError>) {
    let at_signs = email.matches('@').count();
    let valid = at_signs == 1
        && !email.chars().any(char::is_whitespace)
        && !email.starts_with('@')
        && !email.ends_with('@')
        && email.chars().count() <= TEXT_FIELD_CHARS_MAX;
    if !valid {
        problems.push(FieldError::new(
            "email",
            "email must be a valid email address",
        ));
    }
}

fn check_optional_fields(fields: &CustomerFields, problems: &mut Vec<FieldError>) {
    if let Some(external_id) = fields.external_id.as_deref() {
        if external_id.is_empty() || external_id.chars().count() > EXTERNAL_ID_CHARS_MAX {
            problems.push(FieldError::new(
                "externalId",
                format!("externalId must be 1 to {EXTERNAL_ID_CHARS_MAX} characters"),
            ));
        } else if external_id.starts_with(CustomerId::PREFIX) {
            // Keeps `customerId` lookups unambiguous: `cus_…` always means our id.
            problems.push(FieldError::new(
                "externalId",
                "externalId must not start with cus_",
            ));
        }
    }
    for (field, value) in [
        ("fullName", &fields.full_name),
        ("taxDocument", &fields.tax_document),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.chars().count() > TEXT_FIELD_CHARS_MAX)
        {
            problems.push(FieldError::new(
                field,
                format!("{field} must be at most {TEXT_FIELD_CHARS_MAX} characters"),
            ));
        }
    }
    if let Some(timezone) = fields.timezone.as_deref()
        && !TIMEZONES.contains(&timezone)
    {
        problems.push(FieldError::new(
            "timezone",
            format!("timezone must be one of: {}", TIMEZONES.join(", ")),
        ));
    }
    if fields
        .metadata
        .as_ref()
        .is_some_and(|m| m.len() > METADATA_KEYS_MAX)
    {
        problems.push(FieldError::new(
            "metadata",
            format!("metadata may have at most {METADATA_KEYS_MAX} keys"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(email: &str) -> CustomerFields {
        CustomerFields {
            email: Some(email.to_owned()),
            ..CustomerFields::default()
        }
    }

    #[test]
    fn emails_need_one_at_sign_and_no_spaces() {
        let cases = [
            ("a@example.com", true, "plain address"),
            ("a@b@example.com", false, "two at signs"),
            ("a example@x.com", false, "a space"),
            ("example.com", false, "no at sign"),
            ("@example.com", false, "nothing before the at sign"),
        ];
        for (email, accepted, description) in cases {
            assert_eq!(
                NewCustomer::parse(fields(email)).is_ok(),
                accepted,
                "{description}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let input = CustomerFields {
            email: None,
            external_id: Some("cus_123".into()),
            timezone: Some("Mars/Olympus".into()),
            ..CustomerFields::default()
        };

        let Err(DomainError::Validation(problems)) = NewCustomer::parse(input) else {
            panic!("expected a validation error");
        };

        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["email", "externalId", "timezone"]);
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_reports_no_change_when_equal() {
        let now = Timestamp::from_millis(1_000);
        let later = Timestamp::from_millis(2_000);
        let customer = NewCustomer::parse(fields("a@example.com"))
            .unwrap()
            .into_customer(
                CustomerId::from_ulid(ulid::Ulid::from_parts(1, 1)),
                OrgId::new("org"),
                now,
            );

        let rename = CustomerPatch::parse(CustomerFields {
            full_name: Some("Ada".into()),
            ..CustomerFields::default()
        })
        .unwrap();
        let (renamed, changed) = rename.apply(&customer, later);
        let (same, unchanged) = rename.apply(&renamed, Timestamp::from_millis(3_000));

        assert!(changed);
        assert_eq!(renamed.full_name.as_deref(), Some("Ada"));
        assert_eq!(renamed.email, "a@example.com");
        assert_eq!(renamed.updated_at, later);
        assert!(!unchanged);
        assert_eq!(same.updated_at, later);
    }
}
