//! One module per subcommand; each is a thin shell over a library crate.

pub mod info;
pub mod simulate;
