//! Compacts the human-edited, pretty-printed `src/assets/openapi.json` into the form
//! embedded in the wasm: whitespace would cost about 20 KB of the module.

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let source = "src/assets/openapi.json";
    println!("cargo::rerun-if-changed={source}");
    let text = std::fs::read_to_string(source)?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{source} is not valid JSON: {e}"))?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("openapi.json");
    std::fs::write(out, serde_json::to_string(&doc)?)?;
    Ok(())
}
