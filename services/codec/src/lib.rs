//! wismo wire format.
