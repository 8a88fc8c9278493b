//! The storage conformance suite: plain async cases over `Arc<dyn Store>`, one file per store
//! area, run against every engine by `conformance_suite!`. The hard cases (concurrency, locks,
//! claims, rollback, organization isolation, a caller that goes away) live here so both engines
//! are held to exactly the same behaviour.
//!
//! Every area has cases for what it reads back, the order and pages of its lists, the names of
//! its unique conflicts (where it has any), a job that rolls back, and another organization's
//! rows; the areas that lock or claim rows also have concurrent cases. Fixtures are
//! deterministic (`fixtures`): fixed ULIDs and times, no randomness.

mod fixtures;

pub mod addons;
pub mod catalog;
pub mod credit_packs;
pub mod customer_credits;
pub mod customers;
pub mod dashboard;
pub mod idempotency;
pub mod invoices;
pub mod jobs;
pub mod markets;
pub mod offers;
pub mod organizations;
pub mod payments;
pub mod plan_grants;
pub mod plan_groups;
pub mod seats;
pub mod subscriptions;
pub mod test_clock;
pub mod usage;
pub mod webhooks;

/// Expands to one `#[tokio::test]` per case, in a module per area (`sqlite::seats::…`), each on
/// a fresh store from `$fresh`, a future of `Option<(Arc<dyn Store>, guard)>` (`None` = engine
/// not configured, already reported).
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:expr) => {
        $crate::conformance_suite!(@areas $fresh;
            jobs {
                a_dropped_transaction_leaves_no_trace,
                a_job_runs_to_its_end_when_its_caller_goes_away,
                a_refused_part_of_a_job_is_undone_by_its_savepoint,
                rows_that_name_another_organizations_rows_are_refused,
            },
            organizations {
                organizations_read_back_and_the_oldest_of_a_mode_comes_first,
                api_keys_are_found_by_hash_until_revoked,
                a_keys_standing_follows_revocation_and_the_test_clock,
                a_job_for_a_key_reads_its_standing_inside_its_transaction,
                api_keys_page_newest_first_with_ties_broken_by_id,
                a_rolled_back_job_leaves_no_organization_or_key_change,
                another_organizations_keys_are_never_read_touched_or_revoked,
            },
            dashboard {
                sessions_stand_where_they_look_until_ended,
                the_customer_search_matches_exactly_within_the_organization,
            },
            customers {
                a_customer_reads_back_as_written_and_updates_in_place,
                customers_page_newest_first_and_filter_by_external_id,
                a_taken_external_id_is_a_named_conflict,
                a_rolled_back_job_leaves_no_customer_change,
                one_organization_never_reads_another_organizations_rows,
                another_organizations_customer_is_never_updated,
            },
            catalog {
                the_catalog_reads_back_as_written,
                catalog_updates_apply_in_place,
                a_deleted_plan_is_hidden_but_kept_for_its_subscriptions,
                deleting_a_feature_removes_its_attachments,
                a_taken_feature_code_is_a_named_conflict,
                a_taken_feature_name_is_a_named_conflict,
                a_taken_plan_code_is_a_named_conflict_until_the_plan_is_deleted,
                a_second_active_price_for_an_interval_is_a_named_conflict_until_archived,
                attaching_a_feature_twice_is_a_named_conflict,
                a_rolled_back_job_leaves_the_catalog_as_it_was,
                another_organizations_catalog_is_never_read,
                another_organizations_catalog_is_never_changed,
                features_and_plans_page_oldest_first_with_ties_broken_by_id,
                prices_and_features_of_several_plans_come_in_one_read,
            },
            addons {
                addons_read_back_and_activations_follow_their_subscription,
            },
            credit_packs {
                packs_read_back_and_live_names_are_unique_in_any_case,
            },
            payments {
                payments_transactions_refunds_and_cards_read_back_per_organization,
                the_merchant_balance_sums_paid_charges_less_refunds_and_payouts,
                attempts_at_an_invoice_and_manual_attempts_read_back_per_organization,
                claims_of_headless_organizations_read_back_and_change,
            },
            offers {
                offers_codes_and_applications_read_back_and_codes_are_unique_in_any_case,
            },
            markets {
                markets_prices_and_pricing_sources_read_back_and_a_country_has_one_market,
            },
            plan_grants {
                grants_read_back_with_their_features_and_only_due_active_ones_are_handed_out,
            },
            customer_credits {
                credits_read_back_oldest_first_and_an_invoice_takes_and_gives_back,
                a_scheduled_change_and_a_new_plan_read_back_on_the_subscription,
            },
            plan_groups {
                groups_read_back_page_newest_first_and_deleting_one_unlinks_its_plans,
                plans_page_by_group_order_then_creation,
            },
            subscriptions {
                a_subscription_reads_back_with_its_features,
                a_second_live_subscription_of_a_customer_is_a_named_conflict,
                subscriptions_page_newest_first_and_filter_by_customer_and_status,
                due_deadlines_come_earliest_first_and_skip_organizations_on_a_test_clock,
                a_failed_deadline_is_skipped_until_its_retry_time_and_a_save_clears_it,
                a_rolled_back_job_leaves_no_subscription_change,
                another_organizations_subscriptions_are_never_read_or_changed,
            },
            seats {
                concurrent_locked_seat_increments_lose_no_update,
                seat_balances_are_saved_per_feature_and_replaced_in_place,
                seat_events_page_newest_first_with_ties_broken_by_id,
                seat_events_filter_by_feature_and_half_open_time_range,
                the_seat_timeline_reads_the_newest_changes_first,
                a_rolled_back_job_leaves_no_seat_change,
                another_organizations_seats_are_never_read_or_overwritten,
            },
            usage {
                usage_counters_read_back_per_period_and_are_replaced_in_place,
                a_used_event_key_is_a_named_conflict_and_is_found_again,
                concurrent_locked_usage_increments_lose_no_update,
                a_rolled_back_job_leaves_no_usage_change,
                another_organizations_usage_is_never_read_or_overwritten,
                a_quota_key_names_its_event_once_and_only_in_its_organization,
                hot_stamps_move_with_every_change_to_a_customers_state,
                a_batch_of_stamps_answers_each_ask_in_its_order,
            },
            invoices {
                invoice_numbers_count_up_per_organization,
                concurrent_jobs_never_take_the_same_invoice_number,
                an_invoice_reads_back_with_its_lines_and_only_its_status_changes,
                invoices_page_newest_first_and_filter_by_customer_subscription_and_status,
                pending_true_ups_are_billed_once,
                a_rolled_back_job_leaves_no_invoice_number_invoice_or_true_up,
                another_organizations_invoices_are_never_read_or_changed,
                a_credit_note_reads_back_below_zero_with_its_memo_and_metadata,
                sends_read_back_and_only_due_queued_ones_are_handed_out_soonest_first,
                a_server_secret_is_stored_once_and_kept,
            },
            webhooks {
                pending_events_are_handed_out_oldest_first_until_fanned_out,
                concurrent_fan_outs_never_take_one_event_twice,
                concurrent_delivery_claims_never_hand_out_one_delivery_twice,
                a_leased_delivery_is_claimed_again_only_after_its_lease,
                pending_deliveries_are_counted_across_organizations_due_or_not,
                inserting_a_delivery_twice_for_one_event_and_endpoint_keeps_the_first,
                deliveries_of_one_event_share_its_stored_body,
                webhook_endpoints_read_back_update_in_place_and_delete_softly,
                webhook_endpoints_page_newest_first_without_deleted_ones,
                delivery_logs_page_newest_first_with_their_attempts,
                a_rolled_back_job_leaves_no_webhook_change,
                another_organizations_webhooks_are_never_read_or_changed,
            },
            idempotency {
                an_idempotency_record_reads_back_as_written,
                a_second_record_of_a_committed_key_is_refused,
                concurrent_records_of_one_key_let_exactly_one_win,
                expired_idempotency_records_are_purged,
                a_rolled_back_job_leaves_no_idempotency_change,
                another_organizations_idempotency_keys_are_never_read_or_changed,
                another_api_keys_idempotency_keys_are_never_read_or_changed,
            },
            test_clock {
                concurrent_clock_moves_on_a_locked_organization_lose_no_update,
                the_latest_test_clock_run_reads_back_as_written,
                a_rolled_back_job_leaves_the_test_clock_as_it_was,
                another_organizations_test_clock_is_never_moved_or_read,
            },
        );
    };
    (@areas $fresh:expr; $($area:ident { $($case:ident),* $(,)? }),* $(,)?) => {
        $(
            mod $area {
                #[allow(unused_imports)]
                use super::*;

                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $case() {
                        let Some((store, _guard)) = $fresh.await else { return };
                        $crate::conformance::$area::$case(store).await;
                    }
                )*
            }
        )*
    };
}
