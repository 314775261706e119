//! wismo runtime shell.
