//! The OpenAPI 3.1 documents, one per API generation (`openapi.md`): the
//! paths come from the route table (`routes::endpoints`), every schema from the wire types
//! (`tally_wire::schema`, derived with utoipa), and the envelopes from the same layouts
//! `reply.rs` renders. Nothing here is written by hand twice.

use crate::endpoint::{Endpoint, ParamType, Shape, Success};
use crate::error::ErrorObject;
use crate::routes::endpoints;
use axum::http::Method;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use tally_domain::{ApiVersion, Generation};
use tally_wire::schema::{Schemas, View};

/// The version each generation's document describes: the legacy one, and the latest.
pub fn described_version(generation: Generation) -> ApiVersion {
    match generation {
        Generation::Legacy => ApiVersion::V2026_07_11,
        Generation::Direct => ApiVersion::CURRENT,
    }
}

/// Error statuses every `/api/v1` operation can answer: a refused body or parameter, a
/// missing key, an unknown object, the rate limit, and a database that is briefly away.
const COMMON_ERRORS: [u16; 5] = [400, 401, 404, 429, 503];

/// The document for `generation`, as JSON text; built once.
pub fn document_json(generation: Generation) -> &'static str {
    static LEGACY: OnceLock<String> = OnceLock::new();
    static DIRECT: OnceLock<String> = OnceLock::new();
    let cell = match generation {
        Generation::Legacy => &LEGACY,
        Generation::Direct => &DIRECT,
    };
    cell.get_or_init(|| {
        serde_json::to_string_pretty(&document(generation)).expect("documents are plain JSON")
    })
}

/// The document for `generation`.
pub fn document(generation: Generation) -> Value {
    let version = described_version(generation);
    let mut schemas = Schemas::new();
    let mut paths = Map::new();
    for endpoint in endpoints() {
        let operation = operation(&endpoint, generation, &mut schemas);
        let item = paths
            .entry(openapi_path(endpoint.path))
            .or_insert_with(|| json!({}));
        item[method_key(&endpoint.method)] = operation;
    }
    paths.insert("/healthz".to_owned(), health_path());
    paths.insert("/openapi.json".to_owned(), document_path());

    tally_wire::schema::add_named::<ErrorObject>(&mut schemas);
    let mut components = components(schemas);
    components.insert("Error".to_owned(), error_schema(generation));
    let unversioned = error_schema(ApiVersion::CURRENT.generation());
    components.insert("UnversionedError".to_owned(), unversioned);

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tally: the Commet billing API",
            "version": version.as_str(),
            "description": description(generation),
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "apiKey": { "type": "apiKey", "in": "header", "name": crate::edge::API_KEY_HEADER },
            },
        },
        "security": [{ "apiKey": [] }],
    })
}

fn description(generation: Generation) -> String {
    let version = described_version(generation).as_str();
    let layout = match generation {
        Generation::Legacy => "every answer is wrapped in `{success, data}`",
        Generation::Direct => {
            "answers are the objects themselves; lists are `{object: \"list\", data, hasMore}`"
        }
    };
    format!(
        "The API as version {version} shows it: send `commet-version: {version}` with every \
         request; {layout}. Authenticate with `x-api-key: <key>`. Writes accept an \
         `Idempotency-Key`."
    )
}

/// `{id}` stays `{id}`: axum's templates are OpenAPI's.
fn openapi_path(path: &str) -> String {
    path.to_owned()
}

fn method_key(method: &Method) -> &'static str {
    match *method {
        Method::GET => "get",
        Method::POST => "post",
        Method::PUT => "put",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => unreachable!("the route table uses only GET, POST, PUT, PATCH and DELETE"),
    }
}

fn operation(endpoint: &Endpoint, generation: Generation, schemas: &mut Schemas) -> Value {
    let mut parameters: Vec<Value> = path_params(endpoint.path)
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
        })
        .collect();
    parameters.extend(endpoint.query.iter().map(|param| {
        let schema = match param.kind {
            ParamType::Text => json!({ "type": "string" }),
            ParamType::Integer => json!({ "type": "integer", "minimum": 1, "maximum": 100 }),
            ParamType::Boolean => json!({ "type": "boolean" }),
        };
        json!({
            "name": param.name, "in": "query", "required": param.required,
            "description": param.description, "schema": schema,
        })
    }));
    if endpoint.idempotent {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "Replays the first answer to a retried write (`docs/contract/wire.md` §6).",
            "schema": { "type": "string", "maxLength": 255 },
        }));
    }

    let mut responses = Map::new();
    for success in endpoint
        .successes
        .iter()
        .filter(|s| s.only.is_none_or(|only| only == generation))
    {
        responses.insert(
            success.status.to_string(),
            success_response(success, generation, schemas),
        );
    }
    // A write can also meet an `Idempotency-Key` conflict (or a business conflict), and a body
    // over the size limit.
    let conflict = endpoint.idempotent.then_some(409);
    let too_large = endpoint.body.is_some().then_some(413);
    let errors = COMMON_ERRORS
        .into_iter()
        .chain(conflict)
        .chain(too_large)
        .chain(endpoint.errors.iter().copied());
    for status in errors {
        responses.insert(status.to_string(), error_response(status, "Error"));
    }

    let mut operation = json!({
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [tag(endpoint.path)],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(add_body) = endpoint.body {
        let name = add_body(schemas);
        operation["requestBody"] = json!({
            "required": false,
            "content": { "application/json": { "schema": schema_ref(&name) } },
        });
    }
    operation
}

/// The `{name}` segments of a path template.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// `/api/v1/plans/{id}/prices` → `plans`.
fn tag(path: &str) -> &str {
    path.trim_start_matches("/api/v1/")
        .split('/')
        .next()
        .unwrap_or_default()
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn view_ref(view: View, generation: Generation, schemas: &mut Schemas) -> Value {
    view.add_schema(generation, schemas);
    schema_ref(&view.name())
}

/// A success answer in the layout `reply.rs` renders for `generation`.
fn success_response(success: &Success, generation: Generation, schemas: &mut Schemas) -> Value {
    let legacy = generation == Generation::Legacy;
    let list = |view, paginated: bool, schemas: &mut Schemas| {
        let items = json!({ "type": "array", "items": view_ref(view, generation, schemas) });
        let mut properties = Map::new();
        let mut required = vec!["data"];
        if legacy {
            properties.insert("success".to_owned(), json!({ "const": true }));
            required.insert(0, "success");
        } else {
            properties.insert("object".to_owned(), json!({ "const": "list" }));
            required.insert(0, "object");
        }
        properties.insert("data".to_owned(), items);
        properties.insert("hasMore".to_owned(), json!({ "type": "boolean" }));
        properties.insert("nextCursor".to_owned(), json!({ "type": "string" }));
        if paginated || !legacy {
            required.push("hasMore");
        }
        json!({ "type": "object", "required": required, "properties": properties })
    };
    let body = match success.shape {
        Shape::Object(view) if legacy => json!({
            "type": "object",
            "required": ["success", "data"],
            "properties": { "success": { "const": true }, "data": view_ref(view, generation, schemas) },
        }),
        Shape::Object(view) => view_ref(view, generation, schemas),
        Shape::Page(view) => list(view, true, schemas),
        // Legacy: a bare array; a catalog page that does not hold the rest adds the paging keys.
        Shape::Array(view) | Shape::Catalog(view) => list(view, false, schemas),
    };
    json!({
        "description": "Success",
        "content": { "application/json": { "schema": body } },
    })
}

fn error_response(status: u16, schema: &str) -> Value {
    let description = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema_ref(schema) } },
    })
}

/// The error body (`docs/contract/wire.md` §5.1) in `generation`'s envelope.
fn error_schema(generation: Generation) -> Value {
    let object = schema_ref("ErrorObject");
    match generation {
        Generation::Legacy => json!({
            "type": "object",
            "required": ["success", "error"],
            "properties": { "success": { "const": false }, "error": object },
        }),
        Generation::Direct => json!({
            "type": "object",
            "required": ["error"],
            "properties": { "error": object },
        }),
    }
}

/// `/healthz`: no key, no version.
fn health_path() -> Value {
    json!({ "get": {
        "operationId": "health",
        "summary": "Whether the server and its database answer",
        "tags": ["operations"],
        "security": [],
        "responses": {
            "200": { "description": "OK", "content": { "application/json": { "schema": {
                "type": "object", "required": ["status"], "properties": { "status": { "const": "ok" } },
            } } } },
            "503": error_response(503, "UnversionedError"),
        },
    } })
}

/// `/openapi.json`: no key; `version` picks the generation.
fn document_path() -> Value {
    json!({ "get": {
        "operationId": "openapi",
        "summary": "This document, for one API generation",
        "tags": ["operations"],
        "security": [],
        "parameters": [{
            "name": "version", "in": "query", "required": false,
            "description": "`2026-07-11` for the legacy generation; default the latest version.",
            "schema": { "type": "string" },
        }],
        "responses": {
            "200": { "description": "An OpenAPI 3.1 document", "content": { "application/json": {
                "schema": { "type": "object" },
            } } },
            "400": error_response(400, "UnversionedError"),
        },
    } })
}

/// The named schemas, the first of each name kept (a view added twice is the same schema).
fn components(schemas: Schemas) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, schema) in schemas {
        if !out.contains_key(&name) {
            out.insert(
                name,
                serde_json::to_value(schema).expect("schemas serialize"),
            );
        }
    }
    out
}
