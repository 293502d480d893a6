//! Plain HTTP routes on the JSON-RPC port.
//!
//! JSON-RPC is one `POST /` (or a WebSocket upgrade); everything else a node
//! serves over HTTP — the blob store's `/blobs/<sha256>`, the
//! OpenAI-compatible `/v1/...` ([`crate::openai`]) — is ordinary REST, easier to write with
//! axum. [`HttpRoutesLayer`] is a tower layer for jsonrpsee's
//! `set_http_middleware`: requests under one of [`ROUTE_PREFIXES`] go to the
//! axum [`http_routes`] router, all others to jsonrpsee, so both share one
//! port, one CORS policy and one connection limit. To add a route, add it to
//! [`http_routes`] and its prefix to [`ROUTE_PREFIXES`].

use crate::{blobs, openai, rpc::RpcContext};
use axum::{
    Json,
    http::{Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};
use serde_json::{Value, json};
use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tower::{Layer, Service, ServiceExt};

/// Path prefixes served by [`http_routes`]: a path is theirs when it equals
/// a prefix or continues it with `/`.
pub const ROUTE_PREFIXES: &[&str] = &[blobs::PREFIX, openai::PREFIX];

/// Every plain HTTP route of the node, sharing the JSON-RPC methods' context.
pub fn http_routes(context: Arc<RpcContext>) -> axum::Router {
    axum::Router::new()
        .merge(blobs::routes())
        .merge(openai::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(context)
}

/// Whether [`http_routes`] serves `path`.
pub fn is_routed(path: &str) -> bool {
    ROUTE_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// A refusal: a status and a JSON body with an `error` sentence.
#[derive(Debug)]
pub struct HttpError {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl HttpError {
    /// A refusal with `{"error": message}`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, body: json!({ "error": message.into() }) }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "HTTP request failed inside the node");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {error}"))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

async fn no_route(method: Method, uri: Uri) -> HttpError {
    HttpError::new(StatusCode::NOT_FOUND, format!("no HTTP route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not answer {method}", uri.path()),
    )
}

/// Sends [`ROUTE_PREFIXES`] to an axum router and the rest to the inner
/// (JSON-RPC) service.
#[derive(Debug, Clone)]
pub struct HttpRoutesLayer {
    router: axum::Router,
}

impl HttpRoutesLayer {
    /// A layer serving `router` (normally [`http_routes`]).
    pub fn new(router: axum::Router) -> Self {
        Self { router }
    }
}

impl<S> Layer<S> for HttpRoutesLayer {
    type Service = HttpRoutes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpRoutes { inner, router: self.router.clone() }
    }
}

/// The service of [`HttpRoutesLayer`].
#[derive(Debug, Clone)]
pub struct HttpRoutes<S> {
    inner: S,
    router: axum::Router,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B> Service<HttpRequest<B>> for HttpRoutes<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture<Result<HttpResponse, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        if is_routed(request.uri().path()) {
            let router = self.router.clone();
            let request = request.map(axum::body::Body::new);
            return Box::pin(async move {
                let response = router.oneshot(request).await.map_err(BoxError::from)?;
                Ok(response.map(HttpBody::new))
            });
        }
        let response = self.inner.call(request);
        Box::pin(async move { response.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::is_routed;

    #[test]
    fn only_the_prefixes_are_routed() {
        for path in ["/blobs", "/blobs/", "/blobs/0xab", "/blobs/a/b", "/v1", "/v1/models"] {
            assert!(is_routed(path), "{path}");
        }
        for path in ["/", "", "/blobsx", "/blob", "/rpc", "/x/blobs/", "/v1x", "/v2/models"] {
            assert!(!is_routed(path), "{path}");
        }
    }
}
