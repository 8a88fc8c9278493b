//! `tally openapi`: the document `/openapi.json` serves, for tooling that wants it offline.

use crate::cli::OpenapiArgs;
use anyhow::Context;
use tally_domain::ApiVersion;

pub fn run(args: &OpenapiArgs) -> anyhow::Result<()> {
    let version = match args.version.as_deref() {
        None => ApiVersion::CURRENT,
        Some(text) => ApiVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == text)
            .with_context(|| {
                let known: Vec<_> = ApiVersion::ALL.iter().map(|v| v.as_str()).collect();
                format!(
                    "unknown API version {text}; Tally implements {}",
                    known.join(", ")
                )
            })?,
    };
    let document = tally_api::openapi::document_json(version.generation());
    match &args.out {
        Some(path) => std::fs::write(path, format!("{document}\n"))
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{document}"),
    }
    Ok(())
}
