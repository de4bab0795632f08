"""Rewrites a generated block of a Markdown file: the lines between `<!-- NAME:begin -->` and
`<!-- NAME:end -->`. Every script that writes a table into README.md or docs/*.md goes through
here (scripts/bench-table, bench/floor.py, bench/sparse_conv.py, bench/sparse_fc.py,
bench/prune_accuracy.py), so the markers mean the same everywhere."""
import pathlib


def markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def replace_in(content, name, text):
    """`content` with the block `name` replaced by `text`; a missing marker is an error, so a
    renamed marker cannot make a script silently write nothing."""
    begin, end = markers(name)
    if begin not in content or end not in content:
        raise ValueError(f"no '{begin}' ... '{end}' block to rewrite")
    start, stop = content.index(begin) + len(begin), content.index(end)
    if stop < start:
        raise ValueError(f"'{end}' comes before '{begin}'")
    return content[:start] + "\n" + text.rstrip("\n") + "\n" + content[stop:]


def replace_block(path, name, text):
    """Rewrites the block `name` of the file at `path` with `text`."""
    path = pathlib.Path(path)
    try:
        path.write_text(replace_in(path.read_text(), name, text))
    except ValueError as e:
        raise SystemExit(f"{path}: {e}") from None
