"""Click's own words (usage lines, errors, the help option) reach the operator in Chinese, from a complete catalog."""

import gettext
import io
import re
import subprocess
import sys
from pathlib import Path

import click
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from etl.cli_language import CATALOG, compiled, type_names

PLACEHOLDER = re.compile(r"\{(\w+)")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _catalog():
    with open(CATALOG, "rb") as handle:
        return read_po(handle)


def _click_messages() -> set:
    """Every message the installed click marks for translation (Windows' console module aside), and the names of
    its parameter types, which its errors put in a sentence ('abc' 不是有效的 integer。)."""
    found = extract_from_dir(Path(click.__file__).parent, method_map=[("**.py", "python")])
    marked = {message for filename, _line, message, _comments, _context in found if "_winconsole" not in filename}
    return marked | set(type_names().values())


def test_every_message_click_marks_for_translation_has_a_chinese_text():
    # A click upgrade that adds a message fails here until the catalog has it, instead of printing English.
    translated = {message.id: message.string for message in _catalog() if message.id}
    missing = [
        message
        for message in _click_messages()
        if not any(CHINESE.search(text) for text in _as_tuple(translated.get(message)) if text)
    ]
    assert not missing, missing


def _as_tuple(text) -> tuple:
    return text if isinstance(text, tuple) else (text,)


def test_each_translation_uses_only_the_placeholders_click_fills_in():
    # click formats the translated text with its own names: an unknown one would raise KeyError mid-error.
    wrong = []
    for message in _catalog():
        if not message.id:
            continue
        filled = set(PLACEHOLDER.findall(" ".join(_as_tuple(message.id))))
        for text in _as_tuple(message.string):
            if not set(PLACEHOLDER.findall(text)) <= filled:
                wrong.append((message.id, text))
    assert not wrong, wrong


def _messages(mo: bytes) -> dict:
    """A compiled catalog's translations (its header aside: Babel dates it when it compiles)."""
    translations = gettext.GNUTranslations(io.BytesIO(mo))
    return {key: text for key, text in translations._catalog.items() if key != ""}


def test_the_shipped_compiled_catalog_is_the_catalog_compiled():
    shipped = _messages(CATALOG.with_suffix(".mo").read_bytes())
    assert shipped == _messages(compiled()), "run: .venv/bin/python -m etl.cli_language"
    assert len(shipped) >= len(_click_messages())


def test_the_command_line_speaks_chinese_whatever_the_machine_locale(tmp_path):
    # A server's usual locale (C) and an English desktop's: both get the Chinese usage line and error.
    for locale in ("C.UTF-8", "en_US.UTF-8"):
        environment = {"LANG": locale, "LC_ALL": locale, "VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
        wrong = subprocess.run(
            [sys.executable, "-m", "etl.cli", "etl", "run", "--nosuch"],
            capture_output=True,
            text=True,
            env=environment,
        )
        assert wrong.returncode == 2
        assert "用法:" in wrong.stderr and "错误：没有选项 '--nosuch'。" in wrong.stderr, wrong.stderr
        assert "Usage" not in wrong.stderr and "Error" not in wrong.stderr and "Try" not in wrong.stderr
        helped = subprocess.run(
            [sys.executable, "-m", "etl.cli", "etl", "--help"], capture_output=True, text=True, env=environment
        )
        assert "显示此帮助并退出。" in helped.stdout and "Show this message" not in helped.stdout, helped.stdout


def test_a_value_of_the_wrong_type_is_named_in_chinese(tmp_path):
    from click.testing import CliRunner

    from etl.cli import main

    runner = CliRunner()
    base = ["--var-dir", str(tmp_path)]
    for command, name in ((["etl", "quarantine", "list", "--limit"], "--limit"), (["serve", "--port"], "--port")):
        result = runner.invoke(main, [*base, *command, "abc"])
        assert result.exit_code == 2, result.output
        assert f"错误：'{name}' 的值无效：'abc' 不是有效的整数。" in result.output, result.output
    assert "不是有效的数字。" in runner.invoke(main, [*base, "simulate", "--interval", "x"]).output
    helped = runner.invoke(main, ["serve", "--help"]).output
    assert "INTEGER" not in helped and "--port 整数" in helped, helped


def test_a_misspelt_command_gets_a_chinese_suggestion():
    from click.testing import CliRunner

    from etl.cli import main

    result = CliRunner().invoke(main, ["etl", "statu"])
    assert result.exit_code == 2
    assert "没有命令 'statu'" in result.output and "是不是要写：'status'" in result.output, result.output
    assert gettext.textdomain() == "ruralbrain"
