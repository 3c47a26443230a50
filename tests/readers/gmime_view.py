#!/usr/bin/python3
"""Print the MIME tree GMime 3 gives a reader of a message.

Usage: gmime_view.py MESSAGE   (run it with Debian's python3, which has python3-gi)

The view is canonical text: the header fields a reader displays, then one line
per MIME object, indented by depth, with its content type (parameters sorted,
the boundary left out: no reader shows it), disposition, file name, Content-ID
and, for leaves, the size and SHA-256 of the decoded content. Multipart preambles
and epilogues are not printed: no reader shows them, and the body carrier lives
in the epilogue. (GMime's parser warnings are not reachable through PyGObject:
set_warning_callback is not introspectable.)
"""
import hashlib
import sys

try:
    import gi
    gi.require_version("GMime", "3.0")
    from gi.repository import GMime
except (ImportError, ValueError) as e:
    sys.exit("gmime_view.py: GMime 3 through PyGObject is missing (%s); "
             "install python3-gi and gir1.2-gmime-3.0" % e)


def content_type(obj):
    ct = obj.get_content_type()
    params = []
    plist = ct.get_parameters()
    for i in range(plist.length()):
        p = plist.get_parameter_at(i)
        if p.get_name().lower() != "boundary":
            params.append("%s=%s" % (p.get_name().lower(), p.get_value()))
    return "; ".join([ct.get_mime_type().lower()] + sorted(params))


def decoded(part):
    wrapper = part.get_content()
    if wrapper is None:
        return b""
    mem = GMime.StreamMem.new()
    wrapper.write_to_stream(mem)  # undoes the Content-Transfer-Encoding
    return bytes(mem.get_byte_array() or b"")


def walk(obj, depth, out):
    line = "  " * depth + content_type(obj)
    extra = []
    if obj.get_disposition():
        extra.append("disposition=" + obj.get_disposition())
    if obj.get_content_id():
        extra.append("cid=" + obj.get_content_id())
    if isinstance(obj, GMime.Multipart):
        out.append(" | ".join([line] + extra + ["children=%d" % obj.get_count()]))
        for i in range(obj.get_count()):
            walk(obj.get_part(i), depth + 1, out)
    elif isinstance(obj, GMime.MessagePart):
        out.append(" | ".join([line] + extra))
        inner = obj.get_message()
        if inner is not None:
            headers(inner, depth + 1, out)
            if inner.get_mime_part() is not None:
                walk(inner.get_mime_part(), depth + 1, out)
    else:
        if isinstance(obj, GMime.Part) and obj.get_filename():
            extra.append("filename=" + obj.get_filename())
        data = decoded(obj) if isinstance(obj, GMime.Part) else b""
        extra.append("%d bytes sha256 %s" % (len(data), hashlib.sha256(data).hexdigest()))
        out.append(" | ".join([line] + extra))


def headers(msg, depth, out):
    pad = "  " * depth
    for label, addrs in (("From", msg.get_from()), ("To", msg.get_to()), ("Cc", msg.get_cc())):
        if addrs is not None and addrs.length() > 0:
            out.append("%s%s: %s" % (pad, label, addrs.to_string(None, False)))
    out.append("%sSubject: %s" % (pad, msg.get_subject()))
    out.append("%sDate: %s" % (pad, msg.get_header("Date")))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gmime_view.py MESSAGE")
    GMime.init()
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    parser = GMime.Parser.new_with_stream(GMime.StreamMem.new_with_buffer(raw))
    msg = parser.construct_message(None)
    if msg is None:
        sys.exit("gmime_view.py: GMime could not parse %s" % sys.argv[1])
    out = ["[headers]"]
    headers(msg, 1, out)
    out.append("[tree]")
    walk(msg.get_mime_part(), 1, out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
