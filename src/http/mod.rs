//! The HTTP boundary: routing, content negotiation, request bodies, responses and the
//! error type.

pub mod body;
pub mod error;
pub mod negotiate;
pub mod response;
pub mod route;
