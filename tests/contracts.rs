//! The protobuf contracts stay lint-clean and round-trip through the generated code.

use prospector_proto::v1::{Cutout, DeadLetter, PixelEncoding, Pixels};
use prost::Message;
use std::process::Command;

#[test]
fn protobuf_contracts_pass_buf_lint() {
    let out = Command::new(prospector_tests::tool("buf"))
        .arg("lint")
        .current_dir(prospector_tests::workspace_root().join("proto"))
        .output()
        .expect("buf runs");
    assert!(
        out.status.success(),
        "buf lint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_dead_letter_keeps_the_original_message_intact() {
    let cutout = Cutout {
        schema_version: prospector_proto::SCHEMA_VERSION,
        source_id: "src-1".into(),
        image_id: "abc".into(),
        model_pixels: Some(Pixels {
            width: 2,
            height: 1,
            encoding: PixelEncoding::F32Le as i32,
            data: [1.0f32, f32::NAN]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        }),
        ..Default::default()
    };
    let dead = DeadLetter {
        original_subject: "prospector.cutouts".into(),
        reason: "model input size mismatch".into(),
        payload: cutout.encode_to_vec(),
        ..Default::default()
    };
    let back = DeadLetter::decode(dead.encode_to_vec().as_slice()).unwrap();
    let original = Cutout::decode(back.payload.as_slice()).unwrap();
    assert_eq!(original, cutout);
    assert_eq!(back.original_subject, "prospector.cutouts");
}
