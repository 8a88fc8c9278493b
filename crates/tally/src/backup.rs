//! `tally backup --to FILE`: a consistent copy of the SQLite database, taken while a server keeps
//! writing to it. The copy is written beside its target under a name of its own and renamed into
//! place once durable, so the target is never a half-written file, even when the run is cut
//! short. Restoring is stopping the server and pointing it at the copy (README, "Operating
//! Tally").

use crate::cli::BackupArgs;
use crate::config::redact_password;
use std::path::{Path, PathBuf};
use tally_store_sql::{Engine, backup};

const POSTGRES_REFUSAL: &str = "tally backup copies SQLite databases only. For PostgreSQL use \
    its own tools: pg_dump for a logical copy (restored with pg_restore), or base backups \
    (pg_basebackup) with WAL archiving for point-in-time recovery. See the README, \
    \"Operating Tally\".";

/// SQLite keeps these files beside the database while it is open.
const DATABASE_FILE_SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

pub fn run(database_url: &str, args: &BackupArgs) -> anyhow::Result<()> {
    match Engine::of_url(database_url) {
        Some(Engine::Sqlite) => {}
        Some(Engine::Postgres) => anyhow::bail!(POSTGRES_REFUSAL),
        None => anyhow::bail!(
            "unsupported database URL scheme in {:?}: tally backup copies sqlite:// databases",
            redact_password(database_url)
        ),
    }
    let source = backup::sqlite_file(database_url)?;
    let to = &args.to;
    let Some(name) = to.file_name() else {
        anyhow::bail!("--to {} names no file", to.display());
    };
    // Even with --force: renaming over the live database (or its WAL) would lose it.
    if names_the_database(to, &source) {
        anyhow::bail!(
            "--to {} is the database itself or one of its files; back up to another file",
            to.display()
        );
    }
    if !args.force && to.try_exists()? {
        anyhow::bail!(
            "{} already exists; pass --force to replace it",
            to.display()
        );
    }
    let directory = parent_of(to);
    // The process id keeps two backups to the same target from writing one partial file.
    let mut partial_name = std::ffi::OsString::from(".");
    partial_name.push(name);
    partial_name.push(format!(".partial-{}", std::process::id()));
    let partial = directory.join(partial_name);
    // A partial file left by an interrupted run that had this process id: `VACUUM INTO` writes
    // only to a missing or empty file.
    remove_if_present(&partial)?;
    let copied = backup::sqlite_copy(database_url, &partial)
        .map_err(anyhow::Error::from)
        .and_then(|()| Ok(std::fs::rename(&partial, to)?));
    if let Err(error) = copied {
        remove_if_present(&partial).ok();
        return Err(error.context(format!("backing up to {}", to.display())));
    }
    sync_directory(&directory)
}

/// The directory `path` is in (the current one for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `to` is the database file `source` or one of the files SQLite keeps beside it,
/// through whatever links or relative paths either is named by.
fn names_the_database(to: &Path, source: &Path) -> bool {
    let (Ok(source), Some(name)) = (source.canonicalize(), to.file_name()) else {
        // No database there: the copy will say so.
        return false;
    };
    let Ok(target) = to
        .canonicalize()
        .or_else(|_| parent_of(to).canonicalize().map(|dir| dir.join(name)))
    else {
        return false;
    };
    DATABASE_FILE_SUFFIXES.iter().any(|suffix| {
        let mut file = source.clone().into_os_string();
        file.push(suffix);
        target.as_os_str() == file
    })
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Makes the rename durable: on Unix a rename is recorded in its directory, which needs an
/// fsync of its own.
fn sync_directory(directory: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(directory)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = directory;
    Ok(())
}
