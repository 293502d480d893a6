//! The blob store over JSON-RPC: `ol_putBlob`, `ol_getBlob`, `ol_hasBlob`.
//!
//! For small blobs and clients that speak only JSON-RPC; large uploads
//! should use `PUT /blobs/<sha256>` ([`crate::blobs`]), since a JSON-RPC
//! request is limited to [`super::MAX_REQUEST_BYTES`] and hex doubles the
//! size. Refused bytes (wrong hash, too large, not valid content of the
//! named format) and malformed parameters are `-32602` with a sentence; a
//! failure of the node's disk is `-32603`.

use super::{
    RpcContext,
    errors::{internal, invalid_params},
};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_attribution::content::{self, Format, FormatOptions};
use ol_storage::BlobError;
use serde::Deserialize;
use std::str::FromStr;

/// The options of `ol_putBlob`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutBlobOptions {
    /// Refuse the bytes unless they hash to this.
    pub sha256: Option<B256>,
    /// Refuse the bytes unless they are a contribution of this format
    /// (`txt`, `md`, `jsonl`, `csv`).
    pub format: Option<String>,
    /// The JSONL field holding the text (default `text`).
    pub jsonl_field: Option<String>,
    /// The CSV column holding the text (default `text`).
    pub csv_column: Option<String>,
}

impl PutBlobOptions {
    fn format(&self) -> Result<Option<(Format, FormatOptions)>, ErrorObjectOwned> {
        let Some(name) = &self.format else {
            if self.jsonl_field.is_some() || self.csv_column.is_some() {
                return Err(invalid_params("ol_putBlob: jsonlField and csvColumn need a format"));
            }
            return Ok(None);
        };
        let format =
            Format::from_str(name).map_err(|e| invalid_params(format!("ol_putBlob: {e}")))?;
        let defaults = FormatOptions::default();
        let options = FormatOptions {
            jsonl_field: self.jsonl_field.clone().unwrap_or(defaults.jsonl_field),
            csv_column: self.csv_column.clone().unwrap_or(defaults.csv_column),
        };
        Ok(Some((format, options)))
    }
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_putBlob", |params, ctx, _| put_blob(params, &ctx))
        .expect("ol_putBlob is registered once");
    module
        .register_blocking_method("ol_getBlob", |params, ctx, _| get_blob(params, &ctx))
        .expect("ol_getBlob is registered once");
    module
        .register_blocking_method("ol_hasBlob", |params, ctx, _| has_blob(params, &ctx))
        .expect("ol_hasBlob is registered once");
}

fn put_blob(params: Params<'_>, ctx: &RpcContext) -> Result<B256, ErrorObjectOwned> {
    let mut p = super::eth::Positional::new(params, "ol_putBlob")?;
    let data: Bytes = p.required("data")?;
    let options: PutBlobOptions = p.optional("options")?.unwrap_or_default();
    p.finish()?;
    if let Some((format, format_options)) = options.format()? {
        content::parse(&data, format, &format_options)
            .map_err(|e| invalid_params(format!("ol_putBlob: invalid content: {e}")))?;
    }
    ctx.blobs.put(options.sha256, &data).map_err(blob_error)
}

fn get_blob(params: Params<'_>, ctx: &RpcContext) -> Result<Option<Bytes>, ErrorObjectOwned> {
    let mut p = super::eth::Positional::new(params, "ol_getBlob")?;
    let hash: B256 = p.required("hash")?;
    p.finish()?;
    Ok(ctx.blobs.get(&hash).map_err(blob_error)?.map(Bytes::from))
}

fn has_blob(params: Params<'_>, ctx: &RpcContext) -> Result<bool, ErrorObjectOwned> {
    let mut p = super::eth::Positional::new(params, "ol_hasBlob")?;
    let hash: B256 = p.required("hash")?;
    p.finish()?;
    ctx.blobs.contains(&hash).map_err(blob_error)
}

fn blob_error(error: BlobError) -> ErrorObjectOwned {
    match error {
        BlobError::HashMismatch { .. } | BlobError::TooLarge { .. } => {
            invalid_params(format!("ol_putBlob: {error}"))
        }
        BlobError::Corrupt { .. } | BlobError::Io { .. } => internal(error),
    }
}
