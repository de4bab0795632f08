"""The one function that turns text from a model file into text that is safe to print or to write
into a generated header.

Model files are data from anywhere: a tensor, node or file name can hold a newline (which would
end a `//` comment and put the rest on a line of C++ of its own), a trailing backslash (which
splices the next line of the header into the comment), `*/`, NUL, terminal escape sequences, or
very long runs of text. Every string read from a model (tensor, op and node names, descriptions,
metadata, file names, pickle globals) reaches the header, the terminal or an error message only
through escape().
"""

DEFAULT_LIMIT = 160
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text, limit=DEFAULT_LIMIT, keep_unicode=False, literal=False):
    """`text` as one line of printable characters that is safe inside a C++ `//` or `/* */`
    comment, and with literal=True inside a C++ "..." string literal too:

    - control characters (C0, DEL, C1; with keep_unicode also the other non-printable Unicode
      characters: line/paragraph separators, bidirectional overrides) become \\n, \\r, \\t or the
      octal escapes of their UTF-8 bytes (\\000, \\033, ...), as C++ string literals write them;
    - non-ASCII becomes the octal escapes of its UTF-8 bytes, unless keep_unicode (for the terminal);
    - the result never ends with a backslash (a line splice): a final backslash becomes \\134;
    - `*/` becomes `*\\057` and `??` becomes `?\\?` (no comment end, no trigraph);
    - with literal=True, `\\` and `"` become `\\\\` and `\\"`;
    - text longer than `limit` characters is cut, and says how long it was.

    With limit=None and literal=False the function is idempotent: escaping its output changes
    nothing, so a line built from escaped names can be escaped again as a whole.
    """
    text = str(text)
    suffix = ""
    if limit is not None and len(text) > limit:
        suffix = f"...({len(text)} characters)"
        text = text[:limit]
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        code = ord(ch)
        nxt = text[i + 1] if i < last else ""
        if 0x20 <= code < 0x7F:
            if ch == "\\":
                out.append("\\\\" if literal else ("\\134" if i == last else "\\"))
            elif ch == '"' and literal:
                out.append('\\"')
            elif ch == "*" and nxt == "/":
                out.append("*\\057")
                # the '/' itself is consumed below
            elif ch == "/" and i > 0 and text[i - 1] == "*":
                continue
            elif ch == "?" and nxt == "?":
                out.append("?\\")
            else:
                out.append(ch)
        elif keep_unicode and code > 0x7F and ch.isprintable():
            out.append(ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        else:
            out.append("".join(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogatepass")))
    return "".join(out) + suffix
