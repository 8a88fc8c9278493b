//! One row of the route table: a method, a path, its handler, and what the OpenAPI documents
//! say about it. The router and both documents are built from the same rows
//! (`routes::endpoints`), so a route cannot be served undocumented or documented unserved.

use crate::AppState;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use tally_domain::Generation;
use tally_wire::schema::{Schemas, View, add_named};
use utoipa::ToSchema;

/// How an answer's items are laid out (`reply.rs` renders them; `openapi.rs` describes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One object.
    Object(View),
    /// A cursor-paginated list.
    Page(View),
    /// A list that is never paginated.
    Array(View),
    /// A catalog list: one page that holds the rest keeps the never-paginated layout.
    Catalog(View),
}

/// One success answer; `only` limits it to one generation.
#[derive(Debug, Clone, Copy)]
pub struct Success {
    pub status: u16,
    pub shape: Shape,
    pub only: Option<Generation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Text,
    Integer,
    Boolean,
}

#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    pub name: &'static str,
    pub kind: ParamType,
    pub required: bool,
    pub description: &'static str,
}

/// `limit` and `cursor` (`docs/contract/wire.md` §9).
pub const PAGE_PARAMS: [QueryParam; 2] = [
    QueryParam {
        name: "limit",
        kind: ParamType::Integer,
        required: false,
        description: "Items per page, 1 to 100.",
    },
    QueryParam {
        name: "cursor",
        kind: ParamType::Text,
        required: false,
        description: "The `nextCursor` of the previous page.",
    },
];

pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// Adds the request body's schema (and what it refers to); returns its name.
    pub body: Option<fn(&mut Schemas) -> String>,
    pub query: Vec<QueryParam>,
    pub successes: Vec<Success>,
    /// Error statuses this operation can answer besides the ones every operation can.
    pub errors: Vec<u16>,
    /// Takes an `Idempotency-Key`.
    pub idempotent: bool,
}

impl Endpoint {
    pub fn new<H, T>(
        method: Method,
        path: &'static str,
        handler: H,
        operation_id: &'static str,
        summary: &'static str,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .expect("the route table uses only GET, POST, PUT, PATCH and DELETE");
        Self {
            idempotent: method != Method::GET,
            method,
            path,
            handler: on(filter, handler),
            operation_id,
            summary,
            body: None,
            query: Vec::new(),
            successes: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A JSON request body parsed into `T` (always optional: no body reads as `{}`).
    pub fn body<T: ToSchema>(mut self) -> Self {
        self.body = Some(add_named::<T>);
        self
    }

    pub fn query(mut self, params: &[QueryParam]) -> Self {
        self.query.extend_from_slice(params);
        self
    }

    pub fn param(mut self, name: &'static str, required: bool, description: &'static str) -> Self {
        self.query.push(QueryParam {
            name,
            kind: ParamType::Text,
            required,
            description,
        });
        self
    }

    pub fn paged(self) -> Self {
        self.query(&PAGE_PARAMS)
    }

    /// The answer in every generation, `200`.
    pub fn answers(self, shape: Shape) -> Self {
        self.answers_with(200, shape, None)
    }

    pub fn answers_with(mut self, status: u16, shape: Shape, only: Option<Generation>) -> Self {
        self.successes.push(Success {
            status,
            shape,
            only,
        });
        self
    }

    pub fn errors(mut self, statuses: &[u16]) -> Self {
        self.errors.extend_from_slice(statuses);
        self
    }

    /// Not guarded by an `Idempotency-Key` (an action with no stored outcome).
    pub fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }
}
