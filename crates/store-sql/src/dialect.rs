//! What differs between the engines, and nothing else: connecting, and classifying errors.
//! Row locks are `Conn::lock`; the write paths are in `write_path`.

pub mod postgres;
pub mod sqlite;
