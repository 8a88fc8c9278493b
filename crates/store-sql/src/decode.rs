//! Reading rows, whichever driver returned them.
//!
//! Three drivers return rows here: sqlx for PostgreSQL and for SQLite reads, and rusqlite for
//! the SQLite writer (`write_path::sqlite`). A row type lists its columns once, with
//! [`sql_row!`], and decodes from any of them by column name through [`RowRef`].

use sqlx::Row as _;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Postgres, Sqlite, Type};
use tally_store::StoreError;

/// One row of a result, from whichever driver.
pub enum RowRef<'a, 'stmt> {
    Sqlite(&'a SqliteRow),
    Postgres(&'a PgRow),
    Direct(&'a rusqlite::Row<'stmt>),
}

/// A value one column holds: text, a 32- or 64-bit integer, a boolean, or an optional one.
pub trait Column: rusqlite::types::FromSql + Sized {
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error>;
    fn from_postgres(row: &PgRow, column: &str) -> Result<Self, sqlx::Error>;
    fn from_sqlite_at(row: &SqliteRow, index: usize) -> Result<Self, sqlx::Error>;
    fn from_postgres_at(row: &PgRow, index: usize) -> Result<Self, sqlx::Error>;
}

impl<T> Column for T
where
    T: rusqlite::types::FromSql
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>,
{
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
        row.try_get(column)
    }
    fn from_postgres(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
        row.try_get(column)
    }
    fn from_sqlite_at(row: &SqliteRow, index: usize) -> Result<Self, sqlx::Error> {
        row.try_get(index)
    }
    fn from_postgres_at(row: &PgRow, index: usize) -> Result<Self, sqlx::Error> {
        row.try_get(index)
    }
}

impl RowRef<'_, '_> {
    /// The value of `column`; a missing column or a value of another type is a store error.
    pub fn get<T: Column>(&self, column: &str) -> Result<T, StoreError> {
        match self {
            RowRef::Sqlite(row) => T::from_sqlite(row, column).map_err(decode_error),
            RowRef::Postgres(row) => T::from_postgres(row, column).map_err(decode_error),
            RowRef::Direct(row) => row.get(column).map_err(|e| StoreError::Other(Box::new(e))),
        }
    }

    /// The value of the column at `index` (for single-value results such as `COUNT(*)`).
    pub fn get_at<T: Column>(&self, index: usize) -> Result<T, StoreError> {
        match self {
            RowRef::Sqlite(row) => T::from_sqlite_at(row, index).map_err(decode_error),
            RowRef::Postgres(row) => T::from_postgres_at(row, index).map_err(decode_error),
            RowRef::Direct(row) => row.get(index).map_err(|e| StoreError::Other(Box::new(e))),
        }
    }
}

fn decode_error(error: sqlx::Error) -> StoreError {
    StoreError::Other(Box::new(error))
}

/// A row type that decodes from any driver's rows.
pub trait DecodeRow: Sized + Send {
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError>;
}

/// A single-column result: `let (count,): (i64,) = …`.
impl<T: Column + Send> DecodeRow for (T,) {
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok((row.get_at(0)?,))
    }
}

/// Declares a row struct and how it decodes: one field per column, named as the column unless
/// `= "column"` says otherwise.
macro_rules! sql_row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($field_vis:vis $field:ident : $ty:ty $(= $column:literal)?),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($field_vis $field: $ty),*
        }

        impl $crate::decode::DecodeRow for $name {
            fn decode(
                row: &$crate::decode::RowRef<'_, '_>,
            ) -> Result<Self, tally_store::StoreError> {
                Ok(Self {
                    $($field: row.get($crate::decode::sql_row!(@column $field $($column)?))?),*
                })
            }
        }
    };
    (@column $field:ident) => { stringify!($field) };
    (@column $field:ident $column:literal) => { $column };
}

pub(crate) use sql_row;
