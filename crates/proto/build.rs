//! Generates the Rust types and gRPC stubs from the workspace's `proto/` folder
//! (protoc comes from Debian's protobuf-compiler, installed by scripts/bootstrap.sh).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files =
        ["types.proto", "bus.proto", "services.proto"].map(|f| root.join("prospector/v1").join(f));
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    tonic_prost_build::configure().compile_protos(&files, &[root])?;
    Ok(())
}
