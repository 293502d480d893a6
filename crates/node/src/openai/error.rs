//! Refusals in OpenAI's shape:
//! `{"error": {"message", "type", "param", "code"}}` with OpenAI's statuses.

use super::engine::EngineError;
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// An OpenAI-shaped refusal: an HTTP status and the `error` object.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What was wrong, with the value.
    pub message: String,
    /// OpenAI's `type`: `invalid_request_error` or `server_error`.
    pub kind: &'static str,
    /// The request field at fault, if one is.
    pub param: Option<String>,
    /// OpenAI's machine-readable `code`, if any.
    pub code: Option<&'static str>,
}

impl ApiError {
    /// A 400 `invalid_request_error` about `param`.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param: Some(param.into()),
            code: None,
        }
    }

    /// A 400 `invalid_request_error` about the body as a whole.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self { param: None, ..Self::invalid("", message) }
    }

    /// A 404 `model_not_found`.
    pub fn model_not_found(model: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: format!("The model `{model}` does not exist or is not served by this node."),
            kind: "invalid_request_error",
            param: Some("model".to_string()),
            code: Some("model_not_found"),
        }
    }

    /// A 413 for a body over `limit` bytes.
    pub fn too_large(limit: usize, size: Option<u64>) -> Self {
        let message = match size {
            Some(size) => format!("the request body is {size} bytes; the limit is {limit} bytes"),
            None => format!("the request body is over the limit of {limit} bytes"),
        };
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message,
            kind: "invalid_request_error",
            param: None,
            code: Some("request_too_large"),
        }
    }

    /// A 503 `server_error`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
            kind: "server_error",
            param: None,
            code: Some("service_unavailable"),
        }
    }

    /// A 500 `server_error`, logged.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "OpenAI API request failed inside the node");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("internal error: {error}"),
            kind: "server_error",
            param: None,
            code: None,
        }
    }

    /// A 404 for a path under `/v1` that is not an endpoint.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            param: None,
            ..Self::invalid("", format!("Invalid URL ({method} {path})"))
        }
    }

    /// A 405 for an endpoint called with the wrong method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            param: None,
            ..Self::invalid("", format!("{path} does not answer {method}"))
        }
    }

    /// The JSON body: `{"error": {...}}`.
    pub fn body(&self) -> Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            // The engine's sentence, not a model id.
            EngineError::UnknownModel(message) => Self { message, ..Self::model_not_found("") },
            EngineError::InvalidRequest { param, message } => {
                Self { param, ..Self::invalid_body(message) }
            }
            EngineError::Payment(message) => Self {
                status: StatusCode::PAYMENT_REQUIRED,
                param: Some("payment".to_string()),
                code: Some("payment_required"),
                ..Self::invalid_body(message)
            },
            EngineError::Unavailable(message) => Self::unavailable(message),
            EngineError::Internal(message) => Self::internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_openai_statuses() {
        let cases = [
            (
                EngineError::UnknownModel("no model `x` here".into()),
                StatusCode::NOT_FOUND,
                Some("model_not_found"),
            ),
            (
                EngineError::InvalidRequest {
                    param: Some("prompt".into()),
                    message: "too long".into(),
                },
                StatusCode::BAD_REQUEST,
                None,
            ),
            (
                EngineError::Payment("balance 0 is below the fee 5".into()),
                StatusCode::PAYMENT_REQUIRED,
                Some("payment_required"),
            ),
            (
                EngineError::Unavailable("loading".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                Some("service_unavailable"),
            ),
            (EngineError::Internal("disk".into()), StatusCode::INTERNAL_SERVER_ERROR, None),
        ];
        for (error, status, code) in cases {
            let sentence = error.to_string();
            let api = ApiError::from(error);
            assert_eq!(api.status, status);
            assert_eq!(api.code, code);
            assert!(api.message.contains(&sentence), "{} lacks {sentence}", api.message);
        }
        let invalid = ApiError::from(EngineError::InvalidRequest {
            param: Some("prompt".into()),
            message: "too long".into(),
        });
        assert_eq!(invalid.body()["error"]["param"], "prompt");
        assert_eq!(invalid.body()["error"]["type"], "invalid_request_error");
    }
}
