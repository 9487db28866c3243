"""The project file: defaults, errors that name the field, and command-line overrides."""

from __future__ import annotations

import pytest

from domainlm.config import ProjectConfig, load_project, project_from_dict, resolved_dict
from domainlm.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "domainlm.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_empty_file_gets_defaults_everywhere(tmp_path):
    project = load_project(write(tmp_path, ""))
    assert project.base_model == "smollm2-135m"
    assert project.catalog.currency == "USD"
    assert project.train.lora_r == 16
    assert "product-expert" in project.adapters
    assert project.root == tmp_path.resolve()
    assert project.path("catalog.csv") == tmp_path.resolve() / "catalog.csv"


def test_unknown_field_is_named_with_accepted_values(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "train:\n  lora_rank: 8\n"))
    message = str(err.value)
    assert "domainlm.yaml" in message
    assert "train.lora_rank" in message
    assert "lora_r" in message  # the accepted fields are listed


def test_wrong_value_names_field_and_choices(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "serve:\n  verifier: sometimes\n"))
    assert "serve.verifier" in str(err.value)
    assert "repair" in str(err.value) and "sometimes" in str(err.value)


def test_unknown_currency(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "catalog:\n  currency: DOGE\n"))
    assert "catalog.currency" in str(err.value) and "USD" in str(err.value)


def test_bad_mix_names_the_adapter(tmp_path):
    text = "adapters:\n  support-agent:\n    mix: {product_qa: 0.5, knowledge: 0.2}\n"
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, text))
    assert "adapters.support-agent.mix" in str(err.value)
    assert "sum to 0.700" in str(err.value)
    text = "adapters:\n  support-agent:\n    mix: {product_qa: 0.5, jokes: 0.5}\n"
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, text))
    assert "adapters.support-agent.mix" in str(err.value) and "jokes" in str(err.value)


def test_overrides_apply_before_validation(tmp_path):
    path = write(tmp_path, "train:\n  lr: 0.001\n")
    project = load_project(path, ["train.lr=5e-5", "brand.competitors=[A, B]", "catalog.source=sqlite:///x.db"])
    assert project.train.lr == pytest.approx(5e-5)
    assert project.brand.competitors == ["A", "B"]
    assert project.catalog.is_sql
    with pytest.raises(ConfigError) as err:
        load_project(path, ["train.epochs=lots"])
    assert "train.epochs" in str(err.value)
    with pytest.raises(ConfigError):
        load_project(path, ["no-equals-sign"])


def test_missing_file_says_how_to_create_one(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(tmp_path / "nope.yaml")
    assert "domainlm init" in str(err.value)


def test_invalid_yaml_is_named(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "catalog: [unclosed\n"))
    assert "not valid YAML" in str(err.value)


def test_gates_syntax_checked():
    with pytest.raises(ConfigError) as err:
        project_from_dict({"eval": {"gates": {"price_accuracy": "about 0.9"}}})
    assert "price_accuracy" in str(err.value)


def test_every_field_documented():
    """Each config field carries a description (it feeds --help and the configuration reference)."""
    from pydantic import BaseModel

    def walk(model: type[BaseModel], prefix: str):
        for name, info in model.model_fields.items():
            assert info.description, f"{prefix}{name} has no docstring"
            inner = info.annotation
            for candidate in getattr(inner, "__args__", (inner,)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    walk(candidate, f"{prefix}{name}.")

    walk(ProjectConfig, "")


def test_resolved_dict_round_trips(tmp_path):
    project = load_project(write(tmp_path, "name: x\n"))
    again = project_from_dict(resolved_dict(project))
    assert resolved_dict(again) == resolved_dict(project)
