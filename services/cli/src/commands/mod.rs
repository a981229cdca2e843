//! One module per subcommand; each is a thin shell over a library crate.

pub mod bench;
pub mod find;
pub mod info;
pub mod protocol;
pub mod run;
pub mod score;
pub mod simulate;
pub mod topology;
pub mod train;
