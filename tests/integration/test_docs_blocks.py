"""The generated blocks of README.md and docs/*.md: bench/docs_blocks.py rewrites exactly the text
between a block's markers, and every block a script writes exists where that script writes it
(a missing or renamed marker would otherwise leave a stale table behind)."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from docs_blocks import replace_block, replace_in  # noqa: E402

# Block name -> the files it appears in, and the script that writes it.
BLOCKS = {
    "performance-table": (["README.md"], "scripts/bench-table"),
    "cpu-table": (["README.md"], "scripts/bench-table"),
    "performance-summary": (["README.md"], "scripts/bench-table"),
    "floor-table": (["docs/performance.md"], "bench/floor.py"),
    "sparse-conv-table": (["README.md", "docs/sparsity.md"], "bench/sparse_conv.py"),
    "sparse-size-table": (["docs/sparsity.md"], "bench/sparse_conv.py"),
    "sparsity-table": (["README.md"], "bench/sparse_fc.py"),
    "prune-accuracy": (["README.md"], "bench/prune_accuracy.py"),
    "prune-accuracy-table": (["docs/sparsity.md"], "bench/prune_accuracy.py"),
    "sparse-tables": (["docs/sparsity.md"], "bench/sparse_fc.py"),
}


def test_replace_in_rewrites_only_the_block():
    content = "before\n<!-- t:begin -->\nold 1\nold 2\n<!-- t:end -->\nafter\n"
    assert replace_in(content, "t", "new") == "before\n<!-- t:begin -->\nnew\n<!-- t:end -->\nafter\n"
    # Trailing newlines of the new text do not pile up; rewriting twice is the same as once.
    once = replace_in(content, "t", "a\nb\n\n")
    assert once == "before\n<!-- t:begin -->\na\nb\n<!-- t:end -->\nafter\n"
    assert replace_in(once, "t", "a\nb") == once


@pytest.mark.parametrize("content", ["no markers\n", "<!-- t:begin -->\nonly the start\n",
                                     "<!-- t:end -->\n<!-- t:begin -->\n"])
def test_replace_in_refuses_a_missing_or_reversed_block(content):
    with pytest.raises(ValueError):
        replace_in(content, "t", "x")


def test_replace_block_names_the_file(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("nothing here\n")
    with pytest.raises(SystemExit, match="doc.md"):
        replace_block(path, "t", "x")
    assert path.read_text() == "nothing here\n"


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_every_written_block_exists(name):
    files, script = BLOCKS[name]
    assert f'"{name}"' in (ROOT / script).read_text(), f"{script} no longer writes {name}"
    for f in files:
        content = (ROOT / f).read_text()
        assert content.count(f"<!-- {name}:begin -->") == 1 and content.count(f"<!-- {name}:end -->") == 1, f
