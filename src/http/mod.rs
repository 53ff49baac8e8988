//! The HTTP boundary: routing, request bodies, responses and the error type.

pub mod body;
pub mod error;
pub mod response;
pub mod route;
