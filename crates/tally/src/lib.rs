//! The `tally` binary's library half: configuration, storage selection, telemetry and the
//! server that wires the API and the workers together. Tests start it in-process through
//! `Server::build`, the same path `tally serve` takes.

pub mod backup;
pub mod cli;
pub mod config;
pub mod http_server;
pub mod openapi;
pub mod prometheus;
pub mod server;
pub mod storage;
pub mod telemetry;

pub use config::Config;
pub use server::Server;
