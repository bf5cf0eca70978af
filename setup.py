"""Map the fixed top-level folders to import packages (pyproject.toml cannot compute this list).

./ucsiem -> ucsiem, ./parsers -> ucsiem_parsers (every plugin folder), ./mappings -> ucsiem_mappings.
"""

from setuptools import find_packages, setup

parser_packages = ["ucsiem_parsers"] + [
    f"ucsiem_parsers.{name}" for name in find_packages(where="parsers", exclude=["*.tests", "*.tests.*"])
]
setup(
    packages=[*find_packages(include=["ucsiem", "ucsiem.*"]), *parser_packages, "ucsiem_mappings"],
    package_dir={"ucsiem": "ucsiem", "ucsiem_parsers": "parsers", "ucsiem_mappings": "mappings"},
    package_data={
        "ucsiem": ["py.typed"],
        "ucsiem_parsers": ["README.md", "*/README.md", "*/tests/*"],
        "ucsiem_mappings": ["*.md", "*.json", "elasticsearch/*.json"],
    },
)
