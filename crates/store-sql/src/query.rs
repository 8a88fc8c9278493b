//! One SQL text, run on either engine.
//!
//! Every query in this crate is written once with `$1, $2, …` placeholders, which both drivers
//! accept (SQLite reads `$N` as the N-th argument). A [`Query`] holds the text and its arguments
//! as plain values; running it on a [`Conn`] binds them for that connection's driver and maps
//! the driver's errors with that engine's dialect. Rows decode through one `sqlx::FromRow` that
//! serves both engines (see `rows`).

use crate::dialect::{postgres, sqlite};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments, Database, Encode, FromRow, Postgres, Sqlite, Type};
use std::borrow::Cow;
use tally_domain::Timestamp;
use tally_store::{Lock, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// A connection of either engine: from a read pool, or the one a write transaction runs on.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
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
            Conn::Sqlite(_) => "",
        }
    }

    /// Closes the connection instead of returning it to its pool (after a failure that may
    /// have left it in an unknown state).
    pub fn close_on_drop(&mut self) {
        match self {
            Conn::Sqlite(c) => c.close_on_drop(),
            Conn::Postgres(c) => c.close_on_drop(),
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

/// A row type that decodes from both engines.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

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

/// Runs `$body` with `$conn` bound to the driver connection and `$classify` to its dialect's
/// error mapping: the one place where the two drivers are told apart.
macro_rules! on_engine {
    ($self:ident, $conn:ident, |$c:ident, $args:ident, $classify:ident| $body:expr) => {
        match $conn {
            Conn::Sqlite(pooled) => {
                let $c: &mut sqlx::SqliteConnection = &mut *pooled;
                let $args = arguments::<Sqlite>(&$self.args)?;
                let $classify = sqlite::classify;
                $body
            }
            Conn::Postgres(pooled) => {
                let $c: &mut sqlx::PgConnection = &mut *pooled;
                let $args = arguments::<Postgres>(&$self.args)?;
                let $classify = postgres::classify;
                $body
            }
        }
    };
}

impl Query {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.args.push(value.into_arg());
        self
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(self, conn: &mut Conn) -> Result<u64> {
        on_engine!(self, conn, |c, args, classify| {
            sqlx::query_with(&self.sql, args)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
                .map_err(classify)
        })
    }

    pub async fn fetch_all<R: Row>(self, conn: &mut Conn) -> Result<Vec<R>> {
        on_engine!(self, conn, |c, args, classify| {
            sqlx::query_as_with(&self.sql, args)
                .fetch_all(c)
                .await
                .map_err(classify)
        })
    }

    pub async fn fetch_optional<R: Row>(self, conn: &mut Conn) -> Result<Option<R>> {
        on_engine!(self, conn, |c, args, classify| {
            sqlx::query_as_with(&self.sql, args)
                .fetch_optional(c)
                .await
                .map_err(classify)
        })
    }

    pub async fn fetch_one<R: Row>(self, conn: &mut Conn) -> Result<R> {
        on_engine!(self, conn, |c, args, classify| {
            sqlx::query_as_with(&self.sql, args)
                .fetch_one(c)
                .await
                .map_err(classify)
        })
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
