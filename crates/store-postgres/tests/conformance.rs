//! The shared storage suite, on a fresh PostgreSQL database per case.

tally_store::conformance_suite!(tally_store_postgres::testing::fresh_store);
