"""Checks the schema tests share."""

import pytest
from marshmallow import ValidationError

from schemas import errors_by_path


def error_paths(schema, data, lang="en"):
    """The field paths (→ messages) a load of `data` is refused for."""
    with pytest.raises(ValidationError) as info:
        schema.load(data)
    return errors_by_path(info.value.messages, lang)


def assert_bilingual(messages):
    """Every message exists in English and in Chinese, and they differ."""
    english, chinese = errors_by_path(messages, "en"), errors_by_path(messages, "zh-CN")
    assert english.keys() == chinese.keys()
    for path in english:
        for en, zh in zip(english[path], chinese[path], strict=True):
            assert en != zh, path
            assert not zh.isascii(), (path, zh)
