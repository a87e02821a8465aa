"""A broken card front matter is explained in one line, with README.md's own line numbers."""

from __future__ import annotations

import pytest

from modelplaza.hub.cards import InvalidCardMetadata, parse_card

CASES = [
    (
        "---\nlicense: mit\ntags: [a, b\nfoo: 1\n---\n# x\n",
        "Invalid metadata in README.md at line 4 ('foo: 1'): a list opened with '[' is not closed with ']'; "
        "see the list that opens at line 3 ('tags: [a, b')",
    ),
    (
        "---\nlicense: mit\nbad: a: b\n---\n",
        "Invalid metadata in README.md at line 3 ('bad: a: b'): a value contains ': ' (put that value in quotes)",
    ),
    (
        "\n\n---\na: 1\n\tb: 2\n---\n",  # blank lines before the front matter count too
        "Invalid metadata in README.md at line 5 ('b: 2'): a tab character: YAML indents with spaces only",
    ),
    (
        '---\nkey: "unterminated\nx: 1\n---\n',
        "Invalid metadata in README.md at line 3 ('x: 1'): the metadata ends inside a quoted value (a quote is "
        "not closed); see the quoted value that opens at line 2 ('key: \"unterminated')",
    ),
    (
        "---\r\nname: x\r\nb\r\nc: 2\r\n---\r\n",
        "Invalid metadata in README.md at line 4 ('c: 2'): a line is neither 'key: value' nor a '- item' of a "
        "list; see the key at line 3 ('b')",
    ),
    (
        "---\na: *nowhere\n---\n",
        "Invalid metadata in README.md at line 2 ('a: *nowhere'): found undefined alias 'nowhere'",
    ),
    (
        "---\n- a\n- b\n---\n",
        "Invalid metadata in README.md: the YAML between the --- lines must be 'key: value' lines (such as "
        "'license: mit'), not a list or a single value",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_the_message_names_the_line_of_the_file(text, message):
    with pytest.raises(InvalidCardMetadata) as refused:
        parse_card(text)
    assert refused.value.message == message
