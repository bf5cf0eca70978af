"""Map the fixed top-level folders to import packages (pyproject.toml cannot compute this list).

./ucsiem -> ucsiem, ./parsers -> ucsiem_parsers (every plugin folder, and its tests/ folder of golden
files as data), ./mappings -> ucsiem_mappings, ./rules -> ucsiem_rules (the UC rule pack's YAML as data).
"""

from setuptools import find_namespace_packages, find_packages, setup

parser_packages = ["ucsiem_parsers"] + [
    f"ucsiem_parsers.{name}" for name in find_namespace_packages(where="parsers", exclude=["*__pycache__*"])
]
setup(
    packages=[*find_packages(include=["ucsiem", "ucsiem.*"]), *parser_packages, "ucsiem_mappings",
              "ucsiem_mappings.elasticsearch", "ucsiem_mappings.kibana", "ucsiem_rules", "ucsiem_rules.uc"],
    package_dir={"ucsiem": "ucsiem", "ucsiem_parsers": "parsers", "ucsiem_mappings": "mappings",
                 "ucsiem_rules": "rules"},
    package_data={
        "ucsiem": ["py.typed"],
        "ucsiem_mappings": ["*.md", "*.json"],
        "ucsiem_rules": ["*.md"],  # uc/*.yml: the "" entry below
        # parser folders: README and golden files (*.log, *.log-expected.json, *-config.yml); rule YAML
        "": ["*.md", "*.log", "*.json", "*.yml", "*.ndjson"],  # and the Kibana saved objects
    },
)
