//! End-to-end tests: the real server on a random port, over HTTP, on a fresh database per test,
//! once on SQLite and once on PostgreSQL (see `support::Backend`).

mod support;

mod addons;
mod auth;
mod backup;
mod balance;
mod catalog;
mod connections;
mod credit_packs;
mod customer_credits;
mod customers;
mod disconnects;
mod errors;
mod fuzz;
mod idempotency;
mod invoice_operations;
mod invoices;
mod keys_cli;
mod logs;
mod markets;
mod metrics;
mod money_limits;
mod offers;
mod openapi;
mod outage;
mod pauses;
mod plan_changes;
mod plan_grants;
mod plan_groups;
mod rate_limits;
mod receiver;
mod renewals;
mod schema_fuzz;
mod sdks;
mod seat_kill;
mod seat_model;
mod seats;
mod smtp_sink;
mod subscriptions;
mod test_clock;
mod usage;
mod versions;
mod webhook_restart;
mod webhook_targets;
mod webhooks;
