//! Where ids and secrets come from: injectable, like the clock.

use rand::Rng;
use rand::distr::Alphanumeric;
use ulid::Ulid;

pub trait IdSource: Send + Sync + 'static {
    /// A new ULID for a prefixed id.
    fn ulid(&self) -> Ulid;
    /// A new organization id (UUID v4, lowercase, hyphenated).
    fn uuid(&self) -> String;
    /// `len` random base62 characters from a cryptographically secure generator.
    fn base62(&self, len: usize) -> String;
}

/// Ids from the operating system's secure random source.
pub struct RandomIds;

impl IdSource for RandomIds {
    fn ulid(&self) -> Ulid {
        Ulid::new()
    }

    fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn base62(&self, len: usize) -> String {
        // `rand::rng()` is a CSPRNG seeded from the OS, so secrets drawn from it are safe.
        rand::rng()
            .sample_iter(Alphanumeric)
            .take(len)
            .map(char::from)
            .collect()
    }
}
