//! An online copy of a SQLite database, taken while a server keeps writing to it (`tally
//! backup`). PostgreSQL has its own tools for this (`pg_dump`, base backups with WAL archiving),
//! so there is nothing here for it.

use crate::dialect::sqlite::{BUSY_TIMEOUT_MS, classify, classify_direct, refuse_in_memory};
use rusqlite::OpenFlags;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tally_store::StoreError;

/// The file a SQLite `url` (`sqlite://path` or `sqlite:path`) names.
pub fn sqlite_file(url: &str) -> Result<PathBuf, StoreError> {
    refuse_in_memory(url)?;
    let options = SqliteConnectOptions::from_str(url).map_err(classify)?;
    Ok(options.get_filename().to_path_buf())
}

/// Writes a copy of the SQLite database `url` names to `to`, a file that must not exist yet (or
/// be empty), and makes it durable before returning.
///
/// Decision: `VACUUM INTO`, not the online backup API.
/// - Consistent while the writer keeps writing: the statement reads the whole database inside one
///   read transaction, so under WAL it copies exactly the transactions committed before it began
///   (what is still only in the `-wal` file included) and none in part (a group commit is one
///   transaction), and it does not hold up the writer. The backup API is only as good when run in a single step; run in steps, it
///   starts over whenever another connection commits, and under a steady writer may never end.
/// - A complete, standalone database: a fresh file in rollback-journal mode with no `-wal` or
///   `-shm` beside it, so the one file is the whole backup; it can be copied, moved or opened
///   by `tally serve` as it is.
/// - It needs no extra driver feature, and it compacts the copy (free pages are left out).
///
/// The cost: the copy is rebuilt row by row rather than page by page, and while it runs the WAL
/// cannot be checkpointed past the copy's start, so the `-wal` file grows until it ends.
/// SQLite does not fsync what `VACUUM INTO` writes, hence the `sync_all` here.
pub fn sqlite_copy(url: &str, to: &Path) -> Result<(), StoreError> {
    let source = sqlite_file(url)?;
    // Read-only and never created: a backup must not change, or conjure, the live database.
    // No URI flag: `to` is a file name, whatever characters it holds.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&source, flags).map_err(|e| {
        StoreError::other(format!(
            "cannot open the SQLite database {}: {e}",
            source.display()
        ))
    })?;
    // A read transaction can meet a busy WAL for a moment (another connection recovering it).
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(classify_direct)?;
    let target = to.to_str().ok_or_else(|| {
        StoreError::other(format!(
            "the backup path {} is not valid UTF-8",
            to.display()
        ))
    })?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| StoreError::other(format!("copying {}: {e}", source.display())))?;
    drop(conn);
    std::fs::File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(|e| StoreError::other(format!("making {} durable: {e}", to.display())))
}
