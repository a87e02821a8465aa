"""JSON bodies hold Unicode text only: a lone surrogate, which JSON can escape (``"\\ud800"``)
but no name, path, message or stored event can hold, is refused wherever it sits."""

import pytest

from modelplaza.api.receive import check_text, parse_json
from modelplaza.errors import BadRequest

EVENTS = [{"kind": "epoch", "data": {"epoch": 1, "metrics": {"loss": 0.5}, "note": "fine ✓ 😀"}}]


def test_text_of_every_script_and_emoji_passes():
    check_text(EVENTS)
    assert parse_json(b'{"path": "\\ud83d\\ude00.txt"}') == {"path": "😀.txt"}  # a whole pair


@pytest.mark.parametrize(
    "value",
    [
        "\ud800",
        ["fine", "half \udfff"],
        {"\udc00key": 1},
        [{"kind": "epoch", "data": {"metrics": {"loss\ud83d": 0.5}}}],
    ],
)
def test_a_lone_surrogate_anywhere_is_refused(value):
    with pytest.raises(BadRequest, match="lone surrogate"):
        check_text(value)


def test_deep_json_is_refused_not_a_crash():
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_json(b"[" * 100_000)


def test_deeply_nested_values_are_checked_without_recursion():
    value: list = ["\ud800"]
    for _ in range(100_000):
        value = [value]
    with pytest.raises(BadRequest, match="lone surrogate"):
        check_text(value)
