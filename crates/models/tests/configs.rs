//! Every configuration shipped in `configs/` parses and validates, so the
//! files the README points users to stay usable.

#[test]
fn shipped_configurations_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("configs/ exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let config = ol_models::Config::from_toml(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        config.validate().unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    names.sort();
    assert_eq!(names, ["medium.toml", "small.toml", "tiny.toml"]);
}
