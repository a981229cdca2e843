//! One module per subcommand; each is a thin shell over a library crate.

pub mod bench;
pub mod find;
pub mod info;
pub mod model;
pub mod protocol;
pub mod run;
pub mod score;
pub mod simulate;
pub mod submit;
pub mod topology;
pub mod train;
