//! `Metadata: BuildProperties` of `BuildMethod: esbuild` to esbuild's command line, property by
//! property as the SAM developer guide documents them ("Building Node.js Lambda functions with
//! esbuild"): `EntryPoints`, `External`, `Format`, `Loader`, `MainFields`, `Minify` (default
//! true), `OutExtension`, `Sourcemap` (default false), `SourcesContent`, `Target`, `Banner`,
//! `Footer`, `Define`, `KeepNames` and `UseNpmCi` (read by the npm step). Any other property
//! is an error rather than ignored. [`link_sourcemap`] ties `Sourcemap` to `NODE_OPTIONS`.

use serde_json::{Map, Value as Json};

/// The esbuild Nimbus installs when a project has none in its `node_modules`.
pub const ESBUILD_VERSION: &str = "0.25.9";

const KNOWN: &[&str] = &[
    "EntryPoints",
    "External",
    "Format",
    "Loader",
    "MainFields",
    "Minify",
    "OutExtension",
    "Sourcemap",
    "SourcesContent",
    "Target",
    "Banner",
    "Footer",
    "Define",
    "KeepNames",
    "UseNpmCi",
];

const ENABLE_SOURCE_MAPS: &str = "--enable-source-maps";

/// SAM's link between `Sourcemap` and the function's `NODE_OPTIONS`, for `BuildMethod: esbuild`:
/// `Sourcemap: true` appends `--enable-source-maps` to `NODE_OPTIONS` (so that stack traces
/// point into the sources), and a `NODE_OPTIONS` with that flag turns `Sourcemap` on when the
/// template does not set it. `config` is the function's CreateFunction configuration.
pub fn link_sourcemap(metadata: Option<&mut Json>, config: &mut Map<String, Json>) {
    let Some(metadata) = metadata else { return };
    if metadata.get("BuildMethod").and_then(Json::as_str) != Some("esbuild") {
        return;
    }
    let Some(meta) = metadata.as_object_mut() else {
        return;
    };
    let props = meta
        .entry("BuildProperties")
        .or_insert_with(|| Json::Object(Map::new()));
    let Some(props) = props.as_object_mut() else {
        return;
    };
    let Some(vars) = config
        .get_mut("Environment")
        .and_then(|e| e.get_mut("Variables"))
        .and_then(Json::as_object_mut)
    else {
        return;
    };
    let options = vars
        .get("NODE_OPTIONS")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let enabled = options.split_whitespace().any(|o| o == ENABLE_SOURCE_MAPS);
    match flag(props, "Sourcemap") {
        Ok(Some(true)) if !enabled => {
            let value = if options.trim().is_empty() {
                ENABLE_SOURCE_MAPS.to_owned()
            } else {
                format!("{} {ENABLE_SOURCE_MAPS}", options.trim())
            };
            vars.insert("NODE_OPTIONS".into(), Json::String(value));
        }
        Ok(None) if enabled => {
            props.insert("Sourcemap".into(), Json::Bool(true));
        }
        _ => {}
    }
    if props.is_empty() {
        meta.remove("BuildProperties");
    }
}

/// A boolean property; templates write both `true` and `"true"`.
fn flag(props: &Map<String, Json>, key: &str) -> Result<Option<bool>, String> {
    match props.get(key) {
        None => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(format!(
            "BuildProperties {key} must be true or false, not {other}"
        )),
    }
}

/// A list property; a single string (or a comma-separated one for `MainFields`) is a list of one.
fn list(props: &Map<String, Json>, key: &str) -> Result<Vec<String>, String> {
    match props.get(key) {
        None => Ok(Vec::new()),
        Some(Json::String(s)) => Ok(vec![s.clone()]),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "BuildProperties {key} must list strings, not {other}"
                )),
            })
            .collect(),
        Some(other) => Err(format!("BuildProperties {key} must be a list, not {other}")),
    }
}

fn text(props: &Map<String, Json>, key: &str) -> Result<Option<String>, String> {
    match props.get(key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "BuildProperties {key} must be a string, not {other}"
        )),
    }
}

/// esbuild's arguments for `props` (without `--outdir`): bundling for Node.js, then the options,
/// then the entry points. `default_entry` (the handler's source file) is used when
/// `EntryPoints` is absent.
pub fn esbuild_args(
    props: &Map<String, Json>,
    default_entry: Option<&str>,
) -> Result<Vec<String>, String> {
    if let Some(unknown) = props.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "BuildProperties {unknown} is not supported for esbuild (supported: {})",
            KNOWN.join(", ")
        ));
    }
    let mut args = vec!["--bundle".to_owned(), "--platform=node".to_owned()];
    if let Some(format) = text(props, "Format")? {
        args.push(format!("--format={format}"));
    }
    if let Some(target) = text(props, "Target")? {
        args.push(format!("--target={target}"));
    }
    if flag(props, "Minify")?.unwrap_or(true) {
        args.push("--minify".into());
    }
    if flag(props, "Sourcemap")?.unwrap_or(false) {
        args.push("--sourcemap".into());
    }
    if flag(props, "SourcesContent")? == Some(false) {
        args.push("--sources-content=false".into());
    }
    if flag(props, "KeepNames")? == Some(true) {
        args.push("--keep-names".into());
    }
    for external in list(props, "External")? {
        args.push(format!("--external:{external}"));
    }
    for loader in list(props, "Loader")? {
        args.push(format!("--loader:{loader}"));
    }
    let main_fields: Vec<String> = list(props, "MainFields")?
        .iter()
        .flat_map(|f| f.split(',').map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect();
    if !main_fields.is_empty() {
        args.push(format!("--main-fields={}", main_fields.join(",")));
    }
    for ext in list(props, "OutExtension")? {
        args.push(format!("--out-extension:{ext}"));
    }
    for (key, option) in [("Banner", "--banner"), ("Footer", "--footer")] {
        for value in list(props, key)? {
            // `js=...` as SAM writes it; a bare text applies to JavaScript.
            if value.starts_with("js=") || value.starts_with("css=") {
                args.push(format!("{option}:{value}"));
            } else {
                args.push(format!("{option}:js={value}"));
            }
        }
    }
    for define in list(props, "Define")? {
        args.push(format!("--define:{define}"));
    }
    let mut entries = list(props, "EntryPoints")?;
    if entries.is_empty() {
        entries.extend(default_entry.map(str::to_owned));
    }
    if entries.is_empty() {
        return Err(
            "BuildProperties EntryPoints is missing and the handler's file was not found".into(),
        );
    }
    args.extend(entries);
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(props: Json, default_entry: Option<&str>) -> Result<Vec<String>, String> {
        esbuild_args(props.as_object().unwrap(), default_entry)
    }

    #[test]
    fn the_sam_init_typescript_properties() {
        let got = args(
            json!({"Minify": true, "Target": "es2020", "Sourcemap": true, "EntryPoints": ["app.ts"]}),
            None,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "--bundle",
                "--platform=node",
                "--target=es2020",
                "--minify",
                "--sourcemap",
                "app.ts"
            ]
        );
    }

    #[test]
    fn defaults_minify_without_sourcemap_and_the_handler_as_entry() {
        let got = args(json!({}), Some("app.ts")).unwrap();
        assert_eq!(got, ["--bundle", "--platform=node", "--minify", "app.ts"]);
        let got = args(json!({"Minify": "false"}), Some("app.mjs")).unwrap();
        assert_eq!(got, ["--bundle", "--platform=node", "app.mjs"]);
        assert!(args(json!({}), None).unwrap_err().contains("EntryPoints"));
    }

    #[test]
    fn every_documented_property_maps_to_its_option() {
        let got = args(
            json!({
                "EntryPoints": ["src/a.ts", "src/b.ts"],
                "Format": "esm",
                "External": ["@aws-sdk/*", "pg-native"],
                "Loader": [".png=dataurl"],
                "MainFields": "module,main",
                "OutExtension": [".js=.mjs"],
                "Sourcemap": false,
                "SourcesContent": false,
                "Banner": "js=import { createRequire } from 'module';",
                "Footer": ["// end"],
                "Define": ["process.env.STAGE=\"prod\""],
                "KeepNames": true,
                "Minify": false,
                "UseNpmCi": true,
            }),
            Some("ignored.ts"),
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "--bundle",
                "--platform=node",
                "--format=esm",
                "--sources-content=false",
                "--keep-names",
                "--external:@aws-sdk/*",
                "--external:pg-native",
                "--loader:.png=dataurl",
                "--main-fields=module,main",
                "--out-extension:.js=.mjs",
                "--banner:js=import { createRequire } from 'module';",
                "--footer:js=// end",
                "--define:process.env.STAGE=\"prod\"",
                "src/a.ts",
                "src/b.ts",
            ]
        );
    }

    #[test]
    fn sourcemap_and_node_options_follow_each_other() {
        let config = |options: Option<&str>| {
            let vars = match options {
                Some(o) => json!({"NODE_OPTIONS": o}),
                None => json!({}),
            };
            json!({"Environment": {"Variables": vars}})
                .as_object()
                .unwrap()
                .clone()
        };
        let esbuild = |props: Json| json!({"BuildMethod": "esbuild", "BuildProperties": props});

        let mut meta = esbuild(json!({"Sourcemap": true}));
        let mut cfg = config(None);
        link_sourcemap(Some(&mut meta), &mut cfg);
        assert_eq!(
            cfg["Environment"]["Variables"]["NODE_OPTIONS"],
            "--enable-source-maps"
        );

        let mut cfg = config(Some("--max-old-space-size=100"));
        link_sourcemap(Some(&mut meta), &mut cfg);
        assert_eq!(
            cfg["Environment"]["Variables"]["NODE_OPTIONS"],
            "--max-old-space-size=100 --enable-source-maps"
        );

        let mut meta = json!({"BuildMethod": "esbuild"});
        let mut cfg = config(Some("--enable-source-maps"));
        link_sourcemap(Some(&mut meta), &mut cfg);
        assert_eq!(meta["BuildProperties"]["Sourcemap"], true);

        // Sourcemap: false wins, and other build methods are left alone.
        let mut meta = esbuild(json!({"Sourcemap": false}));
        link_sourcemap(Some(&mut meta), &mut cfg);
        assert_eq!(meta["BuildProperties"]["Sourcemap"], false);
        let mut meta = json!({"BuildMethod": "makefile"});
        let mut cfg = config(None);
        link_sourcemap(Some(&mut meta), &mut cfg);
        assert_eq!(meta, json!({"BuildMethod": "makefile"}));
        assert_eq!(cfg, config(None));
        let mut meta = json!({"BuildMethod": "esbuild"});
        link_sourcemap(Some(&mut meta), &mut cfg);
        assert_eq!(meta, json!({"BuildMethod": "esbuild"}));
    }

    #[test]
    fn unknown_or_mistyped_properties_are_errors() {
        let err = args(json!({"Minfy": true}), Some("app.ts")).unwrap_err();
        assert!(err.contains("Minfy is not supported"), "{err}");
        let err = args(json!({"Minify": 3}), Some("app.ts")).unwrap_err();
        assert!(err.contains("Minify must be true or false"), "{err}");
        let err = args(json!({"External": {"a": 1}}), Some("app.ts")).unwrap_err();
        assert!(err.contains("External must be a list"), "{err}");
    }
}
