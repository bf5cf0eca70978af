"""The shipped UC correlation rule pack (installed as `ucsiem_rules`): Sigma YAML files under uc/."""
