//! One SQL text, run on either engine.
//!
//! Every query in this crate is written once with `$1, $2, …` placeholders, which both drivers
//! accept (SQLite reads `$N` as the N-th argument). A [`Query`] holds the text and its arguments
//! as plain values; running it on a [`Conn`] binds them for that connection's driver and maps
//! the driver's errors with that engine's dialect. Rows decode by column name from any driver
//! (`decode`).

use crate::decode::{DecodeRow, RowRef};
use crate::dialect::{postgres, sqlite};
use sqlx::pool::PoolConnection;
use sqlx::{Arguments, Database, Encode, Postgres, Sqlite, Type};
use std::borrow::Cow;
use tally_domain::Timestamp;
use tally_domain::page::PageRequest;
use tally_store::{Lock, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// A connection: an SQLite read connection or a PostgreSQL one (both through sqlx), or the
/// SQLite writer's own connection, which runs statements directly on the C library from the
/// writer's thread (`write_path::sqlite`).
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
    Direct(rusqlite::Connection),
}

impl Conn {
    /// What a locking read appends: a row lock on PostgreSQL; nothing on SQLite, where every
    /// write transaction already holds the database's single write lock (`BEGIN IMMEDIATE`).
    pub fn lock(&self, lock: Lock) -> &'static str {
        match (self, lock) {
            (Conn::Postgres(_), Lock::ForUpdate) => " FOR UPDATE",
            _ => "",
        }
    }

    /// What a claiming read appends: skip rows another transaction holds (PostgreSQL, where
    /// dispatchers on several nodes claim side by side); SQLite has one writer, so nothing.
    pub fn skip_locked(&self) -> &'static str {
        match self {
            Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Conn::Sqlite(_) | Conn::Direct(_) => "",
        }
    }

    /// Closes the connection instead of returning it to its pool (after a failure that may
    /// have left it in an unknown state).
    pub fn close_on_drop(&mut self) {
        match self {
            Conn::Sqlite(c) => c.close_on_drop(),
            Conn::Postgres(c) => c.close_on_drop(),
            // Closed when dropped anyway; the writer opens a new one.
            Conn::Direct(_) => {}
        }
    }
}

/// A bound argument. Tally's schema uses text, 64-bit integers and booleans only.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

/// Values that bind as an [`Arg`].
pub trait IntoArg {
    fn into_arg(self) -> Arg;
}

impl IntoArg for &str {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self.to_owned()))
    }
}
impl IntoArg for String {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self))
    }
}
impl IntoArg for &String {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self.clone()))
    }
}
impl IntoArg for Option<&str> {
    fn into_arg(self) -> Arg {
        Arg::Text(self.map(str::to_owned))
    }
}
impl IntoArg for Option<String> {
    fn into_arg(self) -> Arg {
        Arg::Text(self)
    }
}
impl IntoArg for &Option<String> {
    fn into_arg(self) -> Arg {
        Arg::Text(self.clone())
    }
}
impl IntoArg for Option<&String> {
    fn into_arg(self) -> Arg {
        Arg::Text(self.cloned())
    }
}
impl IntoArg for i64 {
    fn into_arg(self) -> Arg {
        Arg::Int(Some(self))
    }
}
impl IntoArg for Option<i64> {
    fn into_arg(self) -> Arg {
        Arg::Int(self)
    }
}
impl IntoArg for i32 {
    fn into_arg(self) -> Arg {
        Arg::Int(Some(i64::from(self)))
    }
}
impl IntoArg for bool {
    fn into_arg(self) -> Arg {
        Arg::Bool(Some(self))
    }
}
impl IntoArg for Option<bool> {
    fn into_arg(self) -> Arg {
        Arg::Bool(self)
    }
}
impl IntoArg for Timestamp {
    fn into_arg(self) -> Arg {
        Arg::Int(Some(self.as_millis()))
    }
}
impl IntoArg for Option<Timestamp> {
    fn into_arg(self) -> Arg {
        Arg::Int(self.map(Timestamp::as_millis))
    }
}

/// The end of every list query: newest first by `column`, ties broken by id, strictly after
/// the page's position, one row more than the page holds (so that `Page::from_overfetch` can
/// tell whether more follow). Takes the placeholders `$first` to `$first + 2`, bound by
/// [`Query::bind_page`].
pub fn keyset_page(column: &str, first: usize) -> String {
    keyset(column, first, "<", " DESC")
}

/// [`keyset_page`] in the other direction: oldest first by `column`, ties broken by id,
/// strictly after the page's position; bound by [`Query::bind_page_oldest_first`]. For lists
/// whose order is creation order (the catalog).
pub fn keyset_page_oldest_first(column: &str, first: usize) -> String {
    keyset(column, first, ">", "")
}

/// Oldest first within a rank (`rank` ascending, then `created_at_ms`, then id), strictly after
/// the page's position; bound by [`Query::bind_page_oldest_first`]. The cursor holds the last
/// row's creation time and id only, so its rank is read back from `table` (a row's current
/// rank; -1 for the first page, which starts before every rank).
pub fn keyset_page_by_rank(rank: &str, table: &str, first: usize) -> String {
    let (at, id, limit) = (first, first + 1, first + 2);
    format!(
        "({rank}, created_at_ms, id) > \
         (COALESCE((SELECT r.{rank} FROM {table} r WHERE r.id = ${id}), -1), ${at}, ${id}) \
         ORDER BY {rank}, created_at_ms, id LIMIT ${limit}"
    )
}

/// Rows strictly `after` the position in `(column, id)` order, sorted in `direction`. A row
/// value comparison rather than `column < $at OR (column = $at AND id < $id)`: both engines
/// take it as a range of the `(…, column, id)` index, so a page deep in a long list starts where
/// the position is instead of reading and skipping every row before it (measured with
/// `tally-bench --pages`).
fn keyset(column: &str, first: usize, after: &str, direction: &str) -> String {
    let (at, id, limit) = (first, first + 1, first + 2);
    format!(
        "({column}, id) {after} (${at}, ${id}) \
         ORDER BY {column}{direction}, id{direction} LIMIT ${limit}"
    )
}

/// `$first, $first + 1, …` for `count` values, for an `IN (…)` list.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQL text with its arguments.
#[must_use = "a query does nothing until it runs on a connection"]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// A query with `$n` placeholders.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Query {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.args.push(value.into_arg());
        self
    }

    /// Binds every value in turn (the placeholders of [`placeholders`]).
    pub fn bind_each<T: IntoArg>(self, values: impl IntoIterator<Item = T>) -> Self {
        values.into_iter().fold(self, Query::bind)
    }

    /// Binds a keyset page: its position and one more row than it holds, for the three
    /// placeholders of [`keyset_page`].
    pub fn bind_page(self, page: &PageRequest) -> Self {
        // The first page starts past every row.
        self.bind_page_from(page, i64::MAX)
    }

    /// Opens a transaction on PostgreSQL and runs this query in it, in one round trip (one
    /// simple-protocol message carrying both). `None` when the arguments cannot be written into
    /// the text safely (see [`Query::inlined`]): the caller then begins and reads separately.
    pub async fn begin_and_fetch_optional<R: DecodeRow>(
        &self,
        conn: &mut PoolConnection<Postgres>,
    ) -> Option<Result<Option<R>>> {
        let sql = format!("BEGIN; {}", self.inlined()?);
        // Text without arguments goes as one simple-protocol message, which may hold several
        // statements.
        let rows = sqlx::Executor::fetch_all(&mut **conn, sql.as_str()).await;
        Some(match rows {
            Ok(rows) => rows
                .first()
                .map(|row| R::decode(&RowRef::Postgres(row)))
                .transpose(),
            Err(error) => Err(postgres::classify(error)),
        })
    }

    /// The SQL text with every `$n` replaced by its argument, when each argument is an integer,
    /// a boolean, NULL or text of ASCII letters, digits and `_` only (Tally's ids), which need no
    /// escaping. Anything else is `None`: values from outside never go into SQL text.
    fn inlined(&self) -> Option<String> {
        let literal = |arg: &Arg| -> Option<String> {
            match arg {
                Arg::Text(None) | Arg::Int(None) | Arg::Bool(None) => Some("NULL".to_owned()),
                Arg::Int(Some(n)) => Some(n.to_string()),
                Arg::Bool(Some(b)) => Some(b.to_string()),
                Arg::Text(Some(text))
                    if !text.is_empty()
                        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    Some(format!("'{text}'"))
                }
                Arg::Text(Some(_)) => None,
            }
        };
        let mut out = String::with_capacity(self.sql.len() + 64);
        let mut rest = self.sql.as_ref();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let number: usize = rest[at + 1..at + 1 + digits].parse().ok()?;
            out.push_str(&literal(self.args.get(number.checked_sub(1)?)?)?);
            rest = &rest[at + 1 + digits..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// [`Query::bind_page`] for [`keyset_page_oldest_first`].
    pub fn bind_page_oldest_first(self, page: &PageRequest) -> Self {
        // The first page starts before every row.
        self.bind_page_from(page, i64::MIN)
    }

    /// The page's position (`first_ms` and no id for the first page) and its overfetch limit.
    fn bind_page_from(self, page: &PageRequest, first_ms: i64) -> Self {
        let (after_ms, after_id) = match &page.after {
            Some(position) => (position.created_at.as_millis(), position.id.clone()),
            None => (first_ms, String::new()),
        };
        self.bind(after_ms)
            .bind(after_id)
            .bind(i64::from(page.limit) + 1)
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(self, conn: &mut Conn) -> Result<u64> {
        match conn {
            Conn::Sqlite(c) => {
                let args = arguments::<Sqlite>(&self.args)?;
                let done = sqlx::query_with(&self.sql, args)
                    .execute(&mut **c)
                    .await
                    .map_err(sqlite::classify)?;
                Ok(done.rows_affected())
            }
            Conn::Postgres(c) => {
                let args = arguments::<Postgres>(&self.args)?;
                let done = sqlx::query_with(&self.sql, args)
                    .execute(&mut **c)
                    .await
                    .map_err(postgres::classify)?;
                Ok(done.rows_affected())
            }
            Conn::Direct(c) => {
                let mut statement = self.prepare(c)?;
                let changed = statement.raw_execute().map_err(sqlite::classify_direct)?;
                Ok(u64::try_from(changed).unwrap_or(u64::MAX))
            }
        }
    }

    /// Runs a statement that must change exactly one row: a row it could not reach (not there,
    /// or another organization's) is `NotFound`.
    pub async fn execute_one(self, conn: &mut Conn) -> Result<()> {
        match self.execute(conn).await? {
            1 => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    pub async fn fetch_all<R: DecodeRow>(self, conn: &mut Conn) -> Result<Vec<R>> {
        match conn {
            Conn::Sqlite(c) => {
                let args = arguments::<Sqlite>(&self.args)?;
                let rows = sqlx::query_with(&self.sql, args)
                    .fetch_all(&mut **c)
                    .await
                    .map_err(sqlite::classify)?;
                rows.iter()
                    .map(|row| R::decode(&RowRef::Sqlite(row)))
                    .collect()
            }
            Conn::Postgres(c) => {
                let args = arguments::<Postgres>(&self.args)?;
                let rows = sqlx::query_with(&self.sql, args)
                    .fetch_all(&mut **c)
                    .await
                    .map_err(postgres::classify)?;
                rows.iter()
                    .map(|row| R::decode(&RowRef::Postgres(row)))
                    .collect()
            }
            Conn::Direct(c) => {
                let mut statement = self.prepare(c)?;
                let mut rows = statement.raw_query();
                let mut decoded = Vec::new();
                while let Some(row) = rows.next().map_err(sqlite::classify_direct)? {
                    decoded.push(R::decode(&RowRef::Direct(row))?);
                }
                Ok(decoded)
            }
        }
    }

    pub async fn fetch_optional<R: DecodeRow>(self, conn: &mut Conn) -> Result<Option<R>> {
        match conn {
            Conn::Sqlite(c) => {
                let args = arguments::<Sqlite>(&self.args)?;
                let row = sqlx::query_with(&self.sql, args)
                    .fetch_optional(&mut **c)
                    .await
                    .map_err(sqlite::classify)?;
                row.map(|row| R::decode(&RowRef::Sqlite(&row))).transpose()
            }
            Conn::Postgres(c) => {
                let args = arguments::<Postgres>(&self.args)?;
                let row = sqlx::query_with(&self.sql, args)
                    .fetch_optional(&mut **c)
                    .await
                    .map_err(postgres::classify)?;
                row.map(|row| R::decode(&RowRef::Postgres(&row)))
                    .transpose()
            }
            Conn::Direct(c) => {
                let mut statement = self.prepare(c)?;
                let mut rows = statement.raw_query();
                match rows.next().map_err(sqlite::classify_direct)? {
                    Some(row) => Ok(Some(R::decode(&RowRef::Direct(row))?)),
                    None => Ok(None),
                }
            }
        }
    }

    pub async fn fetch_one<R: DecodeRow>(self, conn: &mut Conn) -> Result<R> {
        self.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
    }

    /// A cached prepared statement on the writer's own connection, with the arguments bound by
    /// their `$N` names (SQLite numbers parameters in order of first appearance, which need
    /// not be N).
    fn prepare<'c>(&self, conn: &'c rusqlite::Connection) -> Result<rusqlite::CachedStatement<'c>> {
        let mut statement = conn
            .prepare_cached(&self.sql)
            .map_err(sqlite::classify_direct)?;
        for (n, arg) in self.args.iter().enumerate() {
            let Some(index) = statement
                .parameter_index(&format!("${}", n + 1))
                .map_err(sqlite::classify_direct)?
            else {
                continue;
            };
            let bound = match arg {
                Arg::Text(text) => statement.raw_bind_parameter(index, text.as_deref()),
                Arg::Int(int) => statement.raw_bind_parameter(index, int),
                Arg::Bool(flag) => statement.raw_bind_parameter(index, flag),
            };
            bound.map_err(sqlite::classify_direct)?;
        }
        Ok(statement)
    }
}

/// Binds the arguments for engine `DB`.
fn arguments<'q, DB>(args: &'q [Arg]) -> Result<DB::Arguments<'q>>
where
    DB: Database,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
{
    let mut bound = DB::Arguments::default();
    for arg in args {
        let added = match arg {
            Arg::Text(text) => bound.add(text.as_deref()),
            Arg::Int(int) => bound.add(*int),
            Arg::Bool(flag) => bound.add(*flag),
        };
        added.map_err(StoreError::Other)?;
    }
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::query;

    #[test]
    fn ids_and_numbers_are_written_into_the_text() {
        let q = query("SELECT a FROM t WHERE id = $1 AND n = $2 AND b = $3 AND x = $1")
            .bind("key_01ABC")
            .bind(12_i64)
            .bind(true);
        assert_eq!(
            q.inlined().as_deref(),
            Some(
                "SELECT a FROM t WHERE id = 'key_01ABC' AND n = 12 AND b = true AND x = 'key_01ABC'"
            )
        );
    }

    #[test]
    fn two_digit_placeholders_are_not_read_as_one_digit() {
        let mut q = query("SELECT $10, $1");
        for n in 1..=10_i64 {
            q = q.bind(n);
        }
        assert_eq!(q.inlined().as_deref(), Some("SELECT 10, 1"));
    }

    #[test]
    fn text_that_would_need_escaping_is_never_inlined() {
        for text in ["a'b", "a b", "", "é", "a;b", "a-b"] {
            assert_eq!(query("SELECT $1").bind(text).inlined(), None, "{text:?}");
        }
        assert_eq!(query("SELECT $2").bind(1_i64).inlined(), None);
        assert_eq!(query("SELECT $0").bind(1_i64).inlined(), None);
    }
}
