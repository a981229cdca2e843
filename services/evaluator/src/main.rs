//! The Prospector evaluator service.

fn main() {
    eprintln!("not yet implemented");
    std::process::exit(2);
}
