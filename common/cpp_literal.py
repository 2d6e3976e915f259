"""C++ string literals for the build steps that compile files into the binary (web/embed.py,
universe/embed_catalog.py)."""

LINE_WIDTH = 100


def literal(data):
    """The bytes as adjacent C++ string literals, one per output line."""
    if not data:
        return '""'
    lines, current, width = [], [], 0
    for byte in data:
        ch = chr(byte)
        if ch == "\\" or ch == '"':
            piece = "\\" + ch
        elif ch == "?":
            piece = "\\?"  # no trigraphs in C++20, but older tools still warn about "??"
        elif 0x20 <= byte < 0x7F:
            piece = ch
        elif byte == 0x0A:
            piece = "\\n"
        else:
            piece = "\\%03o" % byte
        current.append(piece)
        width += len(piece)
        if width >= LINE_WIDTH or byte == 0x0A:
            lines.append('"' + "".join(current) + '"')
            current, width = [], 0
    if current:
        lines.append('"' + "".join(current) + '"')
    return "\n    ".join(lines)


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
