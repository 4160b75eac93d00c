/// Documentation generated from the registry: Markdown reference, `--help` text, sample config files.
public enum ConfigDocumentation {
    static let generatedNote =
        "Generated from the config registry (Sources/SluiceConfig); "
        + "regenerate with `make docs-config`, do not edit."

    /// The Markdown reference committed as docs/configuration.md.
    public static func markdown() -> String {
        var out = """
            # Sluice configuration

            <!-- \(generatedNote) -->

            Each server process resolves every key from these sources, later ones winning:
            built-in default < config file (`--config FILE`) < environment variable < command-line flag.

            **Config file**: one `key = value` per line (the `=` is optional: `key value` also works);
            `#` starts a comment at the start of a line or after whitespace; blank lines are ignored;
            values are literal (no quotes). An undeclared key, or a key set twice, is an error naming
            the line. Keys of the other process are accepted and ignored, so one file can serve both.

            **Environment variables**: `SLUICE_` + the key's words in upper snake case
            (`worker.storageDir` → `SLUICE_WORKER_STORAGE_DIR`). `SLUICE_*` variables that match no
            key are reported as warnings.

            **Flags**: the key without its process prefix in kebab case (`--storage-dir DIR`,
            `--storage-dir=DIR`); bool flags alone mean `true`. Also `--config FILE`, `--help`, `--version`,
            `--print-config-docs`, `--print-sample-config`, and `--check-config`: load and check the
            configuration (file, environment, flags) as a start would, then exit without serving: 0 and
            `configuration ok`, or 2 with the errors, `SLUICE_*` variables matching no key included.

            **Units**: byte sizes take binary suffixes `b`, `k`/`kb`/`kib`, `m`/`mb`/`mib`, `g`/`gb`/`gib`,
            `t`/`tb`/`tib` (case-insensitive, all powers of 1024); durations take `ms`, `s`, `m`/`min`, `h`.
            A bare number is in the key's unit (bytes or ms). Key names of sizes and durations carry no
            unit because their values do.

            **Cross-key rules**: \(ConfigConstraints.descriptions.joined(separator: "; ")).

            """
        for role in ConfigRole.allCases {
            out += "\n## \(role.executableName)\n\n"
            out += "| Key | Env var | Flag | Type | Default | Unit | Range | Description |\n"
            out += "|---|---|---|---|---|---|---|---|\n"
            for key in ConfigRegistry.keys(for: role) {
                let cells = [
                    "`\(key.name)`", "`\(key.environmentVariable)`", "`\(key.flagName)`", key.type.name,
                    key.defaultText.isEmpty ? "(empty)" : "`\(key.defaultText)`", key.unit ?? "", key.rangeDescription,
                    key.doc,
                ]
                out += "| " + cells.map { $0.replacingPipes() }.joined(separator: " | ") + " |\n"
            }
        }
        return out
    }

    /// `--help` text for the executable of `role`.
    public static func helpText(for role: ConfigRole) -> String {
        let name = role.executableName
        var lines = [
            "Usage: \(name) [--config FILE] [--FLAG VALUE ...]",
            "",
            "Options:",
            row("--config FILE", "config file of `key = value` lines"),
            row("--help", "print this text"),
            row("--print-config-docs", "print the configuration reference (Markdown)"),
            row("--print-sample-config", "print a sample config file for \(name)"),
            row("--check-config", "load and check the configuration as a start would, then exit (0: ok, 2: error)"),
            "",
            "Configuration (priority: default < config file < environment < flag):",
        ]
        for key in ConfigRegistry.keys(for: role) {
            let defaultText = key.defaultText.isEmpty ? "empty" : key.defaultText
            lines.append(row("\(key.flagName) <\(key.type.name)>", key.doc))
            lines.append(row("", "key \(key.name), env \(key.environmentVariable), default \(defaultText)"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A config file for `role` with every key commented out at its default, committed as config/*.conf.
    public static func sampleConfigFile(for role: ConfigRole) -> String {
        var out = """
            # Sample \(role.executableName) configuration. \(generatedNote)
            # Every key is shown commented out at its default. Syntax: `key = value`; `#` starts a comment.
            # Priority: built-in default < this file < environment variable < command-line flag.

            """
        for key in ConfigRegistry.keys(for: role) {
            out += "\n# \(key.doc)\n"
            let unit = key.unit.map { ", unit \($0)" } ?? ""
            out += "# \(key.type.name)\(unit), allowed \(key.rangeDescription); "
            out += "env \(key.environmentVariable); flag \(key.flagName)\n"
            out += "# \(key.name) =" + (key.defaultText.isEmpty ? "" : " \(key.defaultText)") + "\n"
        }
        return out
    }

    private static func row(_ left: String, _ right: String) -> String {
        let padded = left.count < 44 ? left + String(repeating: " ", count: 44 - left.count) : left + "  "
        return "  " + padded + right
    }
}

extension ConfigRegistry {
    /// The Markdown reference of every key (docs/configuration.md).
    public static func markdownDocumentation() -> String {
        ConfigDocumentation.markdown()
    }
}

extension String {
    fileprivate func replacingPipes() -> String {
        split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}
