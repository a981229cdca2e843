//! The prospector command-line program.

fn main() {
    eprintln!("not yet implemented");
    std::process::exit(2);
}
