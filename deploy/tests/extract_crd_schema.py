"""Turns a CustomResourceDefinition into the schema file deploy/tests/validate.py reads (deploy/schemas/*.json).

Usage: extract_crd_schema.py CRD.yaml VERSION SOURCE-REPOSITORY SOURCE-PATH SOURCE-REF > deploy/schemas/NAME.json

Keeps the openAPIV3Schema of one served version exactly, less its `description` texts (documentation only: they
never change what validates), so the Spark Operator's 800 KB definition stays reviewable. The source is recorded
in the file; deploy/schemas/README.md lists them.
"""

import json
import sys

import yaml


def strip_descriptions(node):
    """The schema without `description` keywords (a property that is *named* description is a dict: kept)."""
    if isinstance(node, dict):
        return {
            key: strip_descriptions(value)
            for key, value in node.items()
            if not (key == "description" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


def main(arguments):
    if len(arguments) != 5:
        sys.exit(__doc__)
    path, version, repository, source_path, ref = arguments
    with open(path, encoding="utf-8") as handle:
        documents = [document for document in yaml.safe_load_all(handle) if document]
    crds = [document for document in documents if document.get("kind") == "CustomResourceDefinition"]
    if len(crds) != 1:
        sys.exit(f"{path}: expected one CustomResourceDefinition, found {len(crds)}")
    spec = crds[0]["spec"]
    versions = [entry for entry in spec["versions"] if entry["name"] == version]
    if not versions:
        sys.exit(f"{path}: no version {version}")
    out = {
        "source": {"repository": repository, "path": source_path, "ref": ref},
        "group": spec["group"],
        "version": version,
        "kind": spec["names"]["kind"],
        "scope": spec["scope"],
        "openAPIV3Schema": strip_descriptions(versions[0]["schema"]["openAPIV3Schema"]),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
