"""dlcompute extract-pdf runs each file in a guarded worker: one bad file never ends a batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

from extract.files import extract_files
from extract.runner import one_page_pdf, text_content

ROOT = Path(__file__).resolve().parent.parent
MB = 1 << 20


def flate_bomb(inflated_mb: int) -> bytes:
    """A tiny PDF whose page content inflates to ``inflated_mb`` MB (of spaces, which are
    valid content-stream syntax), built in well under a second.

    After a full flush the compressor has forgotten everything before it, so every
    1 MB of spaces compresses to the same bytes: the stream is one segment repeated,
    with the Adler-32 of the whole inflated content at its end.
    """
    text = text_content("A crafted PDF: its content stream is a decompression bomb.")
    c = zlib.compressobj(9)
    head = c.compress(text) + c.flush(zlib.Z_FULL_FLUSH)
    spaces = b" " * MB
    segment = c.compress(spaces) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(spaces) + c.flush(zlib.Z_FULL_FLUSH) == segment
    end = c.flush()[:-4]  # the final block; its checksum covers two segments only
    adler = zlib.adler32(text)
    for _ in range(inflated_mb):
        adler = zlib.adler32(spaces, adler)
    stream = head + segment * inflated_mb + end + adler.to_bytes(4, "big")
    return one_page_pdf(stream, flate=True)


def test_the_bomb_is_what_it_claims():
    data = flate_bomb(4)
    start = data.index(b"stream\n") + len(b"stream\n")
    inflated = zlib.decompress(data[start:data.index(b"\nendstream")])
    assert len(inflated) > 4 * MB and inflated.startswith(b"BT /F1")
    assert len(data) < 20_000


def test_a_decompression_bomb_in_a_batch_gets_its_line_and_the_next_file_too(corpus,
                                                                           tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(flate_bomb(3000))  # 3 GB once inflated, from about 3 MB
    good = [corpus / "1409.3215.pdf", corpus / "2106.12368.pdf"]
    files = [good[0], bomb, tmp_path / "missing.pdf", good[1]]
    r = subprocess.run([sys.executable, "-m", "dlcompute", "extract-pdf", "--silent",
                        "--workers", "1", "--max-memory", "400", "--timeout", "120",
                        *map(str, files)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["file"] for x in lines] == [f.name for f in files]  # every file, in order
    by_file = {x["file"]: x for x in lines}
    assert by_file["bomb.pdf"]["status"] in ("memory", "timeout"), by_file["bomb.pdf"]
    assert by_file["bomb.pdf"]["error"]
    assert by_file["missing.pdf"]["status"] not in ("ok", "memory", "timeout")
    for f in good:
        assert by_file[f.name]["status"] == "ok"
    assert by_file["2106.12368.pdf"]["arxiv_id"] == "2106.12368"
    assert any(by_file["1409.3215.pdf"][k] for k in ("parameters", "results", "hardware",
                                                     "training_time_hours", "epochs"))


def test_a_hanging_file_times_out_and_the_batch_goes_on(corpus, tmp_path):
    bomb = tmp_path / "slow.pdf"
    bomb.write_bytes(flate_bomb(1000))  # seconds of inflating and parsing
    # a memory limit above what it can reach in 1 s: the time limit stops it
    records = list(extract_files([str(bomb), str(corpus / "1409.3215.pdf")], workers=1,
                                 timeout=1, max_memory_mb=4096))
    assert [r["status"] for r in records] == ["timeout", "ok"]
    assert "1 s" in records[0]["error"]
