//! Plan groups (`lifecycle.md` §3): the sets of plans a subscription may move between, ranked
//! by `sortOrder`. The rank alone tells an upgrade from a downgrade; prices never do.

use crate::catalog::{Plan, PlanGroupId, check_name};
use crate::{DomainError, FieldError, OrgId, Timestamp};

/// The largest `sortOrder` a caller may set.
pub const SORT_ORDER_MAX: i64 = 1_000_000;
/// A group's description is shorter than a plan's (`lifecycle.md` §3).
pub const GROUP_DESCRIPTION_CHARS_MAX: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanGroup {
    pub id: PlanGroupId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    /// Stored and shown; Tally has no public pricing page that would read it.
    pub is_public: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A group's name (1–255 characters) and description (at most 1 000).
pub fn check_group_fields(
    name: Option<&str>,
    description: Option<&str>,
    problems: &mut Vec<FieldError>,
) {
    if let Some(name) = name {
        check_name(name, "name", problems);
    }
    if description.is_some_and(|d| d.chars().count() > GROUP_DESCRIPTION_CHARS_MAX) {
        problems.push(FieldError::new(
            "description",
            format!("description must be at most {GROUP_DESCRIPTION_CHARS_MAX} characters"),
        ));
    }
}

pub fn check_sort_order(sort_order: i64) -> Result<(), DomainError> {
    if (0..=SORT_ORDER_MAX).contains(&sort_order) {
        Ok(())
    } else {
        Err(DomainError::field(
            "sortOrder",
            format!("sortOrder must be an integer from 0 to {SORT_ORDER_MAX}"),
        ))
    }
}

/// Where a plan added without an order goes: after the highest member, or 0 in an empty group.
pub fn next_sort_order(members: &[Plan]) -> i64 {
    members
        .iter()
        .map(|p| p.sort_order)
        .max()
        .map_or(0, |highest| (highest + 1).min(SORT_ORDER_MAX))
}

/// The new order of a group: `plan_ids` must name every member exactly once; each member's
/// `sortOrder` becomes its 0-based position. Returns the members, reordered and renumbered.
pub fn reorder(members: &[Plan], plan_ids: &[String]) -> Result<Vec<Plan>, DomainError> {
    let refused = || {
        DomainError::field(
            "planIds",
            "planIds must list every plan of the group exactly once",
        )
    };
    if plan_ids.len() != members.len() {
        return Err(refused());
    }
    let mut reordered: Vec<Plan> = Vec::with_capacity(members.len());
    for (position, id) in plan_ids.iter().enumerate() {
        let member = members
            .iter()
            .find(|p| p.id.as_str() == id || p.code == *id)
            .ok_or_else(refused)?;
        if reordered.iter().any(|p| p.id == member.id) {
            return Err(refused());
        }
        let mut member = member.clone();
        member.sort_order = i64::try_from(position).map_err(|_| refused())?;
        reordered.push(member);
    }
    Ok(reordered)
}

/// Members in the order every view lists them: `sortOrder`, then creation, then id.
pub fn sort_members(members: &mut [Plan]) {
    members.sort_by(|a, b| {
        (a.sort_order, a.created_at, a.id.as_str()).cmp(&(
            b.sort_order,
            b.created_at,
            b.id.as_str(),
        ))
    });
}

/// Whether two plans may be exchanged by a plan change: the same group.
pub fn same_group(a: &Plan, b: &Plan) -> bool {
    a.group.is_some() && a.group == b.group
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::PlanId;

    fn plan(n: u8, sort_order: i64) -> Plan {
        Plan {
            id: PlanId::from_stored(format!("pln_{n}")),
            org_id: OrgId::new("org_1".to_owned()),
            code: format!("p{n}"),
            name: format!("P{n}"),
            description: None,
            consumption_model: None,
            is_public: true,
            is_free: false,
            block_on_exhaustion: None,
            metadata: None,
            group: Some(PlanGroupId::from_stored("plg_1".into())),
            sort_order,
            created_at: Timestamp::from_millis(i64::from(n)),
            updated_at: Timestamp::from_millis(i64::from(n)),
        }
    }

    #[test]
    fn a_plan_added_without_an_order_goes_last() {
        assert_eq!(next_sort_order(&[]), 0);
        assert_eq!(next_sort_order(&[plan(1, 0), plan(2, 7)]), 8);
        assert_eq!(next_sort_order(&[plan(1, SORT_ORDER_MAX)]), SORT_ORDER_MAX);
    }

    #[test]
    fn a_reorder_names_every_member_once_and_numbers_from_zero() {
        let members = [plan(1, 0), plan(2, 1), plan(3, 5)];
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let reordered = reorder(&members, &ids(&["pln_3", "p1", "pln_2"])).unwrap();
        let orders: Vec<_> = reordered
            .iter()
            .map(|p| (p.id.as_str(), p.sort_order))
            .collect();
        assert_eq!(orders, [("pln_3", 0), ("pln_1", 1), ("pln_2", 2)]);

        for wrong in [
            ids(&["pln_1", "pln_2"]),
            ids(&["pln_1", "pln_1", "pln_2"]),
            ids(&["pln_1", "pln_2", "pln_9"]),
        ] {
            let error = reorder(&members, &wrong).unwrap_err();
            assert!(
                matches!(&error, DomainError::Validation(p) if p[0].field == "planIds"),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn members_list_by_order_then_creation() {
        let mut members = [plan(3, 1), plan(2, 1), plan(1, 4), plan(4, 0)];
        sort_members(&mut members);
        let ids: Vec<_> = members.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["pln_4", "pln_2", "pln_3", "pln_1"]);
    }

    #[test]
    fn only_plans_of_one_group_are_in_the_same_group() {
        let mut outside = plan(2, 0);
        outside.group = None;
        assert!(same_group(&plan(1, 0), &plan(3, 2)));
        assert!(!same_group(&plan(1, 0), &outside));
        assert!(!same_group(&outside, &outside.clone()));
    }
}
