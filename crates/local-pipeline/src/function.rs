//! A "Lambda function" as the event-source mappings see it: JSON in, JSON out
//! or a function error. Going through JSON keeps the emulation honest: the
//! handler gets exactly the event Lambda would build, and its answer is read
//! the way Lambda reads it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An unhandled error of the function (Lambda's `functionError: "Unhandled"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct FunctionError {
    pub error_type: String,
    pub message: String,
}

impl FunctionError {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        FunctionError {
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

pub trait Function: Send + Sync {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>>;
}

/// A function from an async closure.
pub struct FnFunction<F>(pub F);

impl<F, Fut> Function for FnFunction<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin((self.0)(event))
    }
}

pub fn from_fn<F, Fut>(f: F) -> Arc<dyn Function>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    Arc::new(FnFunction(f))
}

/// The payload as Lambda hands it to a function: the event's JSON text.
pub fn payload(event: &Value) -> String {
    event.to_string()
}

/// An event the function could not read.
pub fn unmarshal(e: impl std::fmt::Display) -> FunctionError {
    FunctionError::new("Runtime.UnmarshalError", e.to_string())
}

pub fn to_response<T: serde::Serialize>(response: &T) -> Result<Value, FunctionError> {
    serde_json::to_value(response)
        .map_err(|e| FunctionError::new("Runtime.MarshalError", e.to_string()))
}
