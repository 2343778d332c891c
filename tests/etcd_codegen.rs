//! `proto/generated/` is exactly what etcd's `.proto` files in `proto/` generate: the code
//! is regenerated here with a Rust protobuf compiler (no protoc needed, so this runs on
//! every machine) and compared byte for byte. `GALAXY_HA_REGENERATE=1` rewrites the files
//! instead, after an update of the protos or of the code generator.

use std::path::Path;

/// The generated modules galaxy-ha compiles (`src/fleet/etcd.rs` includes them).
const KEPT: [&str; 3] = ["etcdserverpb.rs", "mvccpb.rs", "authpb.rs"];

#[test]
fn the_committed_etcd_client_code_is_what_the_protos_generate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let protos = root.join("proto");
    let committed = protos.join("generated");
    let out = tempfile::tempdir().unwrap();
    let descriptors = protox::compile([protos.join("etcd/api/etcdserverpb/rpc.proto")], [&protos])
        .expect("etcd's protos compile");
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .out_dir(out.path())
        .compile_fds(descriptors)
        .expect("code generation");
    let regenerate = std::env::var_os("GALAXY_HA_REGENERATE").is_some();
    for name in KEPT {
        let fresh = std::fs::read_to_string(out.path().join(name)).unwrap();
        let path = committed.join(name);
        if regenerate {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == fresh,
            "{} differs from what proto/ generates; run GALAXY_HA_REGENERATE=1 cargo test --test main etcd_codegen and commit the result",
            path.display()
        );
    }
}
