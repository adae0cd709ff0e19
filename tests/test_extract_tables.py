"""The position-based table reader (extract/tables.py) on synthetic positioned words.

Each case lays words out as a PDF would (boxes in points, 12 pt between lines), groups
them with extract.layout.group_lines and reads the tables. The layouts are the
general families of DIAGNOSIS.md section 3, written with invented models.
"""

from __future__ import annotations

from extract.candidates import TableContext, size_candidates
from extract.layout import Line, Word, group_lines
from extract.results import PaperContext, load_rules
from extract.tables import Table, read_tables

CHAR = 5.0     # width of a character, points
HEIGHT = 9.0   # height of a line's glyphs
SPACE = 2.5    # a word space (cells are further apart than extract.layout.CELL_GAP)
STEP = 12.0    # from one line's top to the next
WIDTH = 612.0  # a US-letter page: the gutter of a two-column page is at 306

Row = list[tuple[float, str]] | None  # cells as (x0, text); None: an empty line


def lay_out(*rows: Row, top: float = 100.0) -> list[Line]:
    """Lines of words, one row of cells per line; a cell's words a word space apart."""
    words = []
    for row in rows:
        for x, text in row or []:
            for w in text.split():
                words.append(Word(w, x, x + CHAR * len(w), top, top + HEIGHT))
                x += CHAR * len(w) + SPACE
        top += STEP
    return group_lines(words)


def tables(*rows: Row, two_column: bool = False) -> list[Table]:
    return read_tables(lay_out(*rows), 1, WIDTH, [], two_column)


def cells(t: Table) -> list[tuple[str, dict[str, str]]]:
    """Each row as (label, {column header: cell text})."""
    return [(r.label, {t.columns[n].header_text: c.text for n, c in r.cells.items()})
            for r in t.rows]


def candidates(t: Table) -> list:
    """The table's size candidates, values rounded to 6 significant digits."""
    out = size_candidates(TableContext(t, PaperContext(), (), load_rules()))
    for f in out:
        f.normalized_value = float(f"{f.normalized_value:.6g}")
    return out


def test_columns_from_value_extents_and_stacked_headers() -> None:
    # values of different widths, not aligned on their left edges; a header of two lines
    [t] = tables(
        [(60, "Table 1: Results on ImageNet.")], None,
        [(60, "Model"), (200, "Params"), (260, "FLOPs"), (320, "Top-1")],
        [(200, "(M)"), (260, "(G)"), (320, "(%)")],
        [(60, "ResNet-50"), (200, "25.6"), (260, "4.1"), (320, "76.1")],
        [(60, "ResNeXt-101"), (195, "83.46"), (255, "15.62"), (320, "79.25")],
        [(60, "OurNet-B"), (205, "9.2"), (260, "0.39"), (325, "81.2")],
    )
    assert t.caption == "Table 1: Results on ImageNet." and t.label_header == "Model"
    assert [c.header for c in t.columns] == [["Params", "(M)"], ["FLOPs", "(G)"], ["Top-1", "(%)"]]
    assert cells(t) == [
        ("ResNet-50", {"Params (M)": "25.6", "FLOPs (G)": "4.1", "Top-1 (%)": "76.1"}),
        ("ResNeXt-101", {"Params (M)": "83.46", "FLOPs (G)": "15.62", "Top-1 (%)": "79.25"}),
        ("OurNet-B", {"Params (M)": "9.2", "FLOPs (G)": "0.39", "Top-1 (%)": "81.2"})]
    # each row a record: its candidates keep the row, the header's scale and its label
    got = {(f.field, f.normalized_value, f.model, f.row_id) for f in candidates(t)}
    assert ("parameters", 9.2e6, "OurNet-B", "p1.t0.r2") in got
    assert ("compute_per_pass", 4.1e9, "ResNet-50", "p1.t0.r0") in got
    assert {f.extra["scale_source"] for f in candidates(t)} == {"header"}


def test_caption_paragraph_is_not_the_header() -> None:
    # a two-line caption naming MACs and throughput, then the header after a gap
    [t] = tables(
        [(60, "Table 4: Our models against the state of the art. MACs and")],
        [(60, "Throughput are measured with a V100 GPU and batch size 64.")],
        None,
        [(60, "Model"), (180, "Top-1"), (240, "#Params"), (300, "MACs"), (360, "Throughput")],
        [(180, "(%)"), (240, "(M)"), (300, "(G)"), (360, "(images/s)")],
        [(60, "OurNet-5M"), (180, "79.1"), (240, "5.4"), (300, "1.3"), (360, "3,060")],
        [(60, "OurNet-9M"), (180, "80.6"), (240, "9.2"), (300, "2.0"), (360, "2,480")],
    )
    assert t.caption.startswith("Table 4:") and t.caption.endswith("batch size 64.")
    assert [c.header_text for c in t.columns] == ["Top-1 (%)", "#Params (M)", "MACs (G)",
                                                 "Throughput (images/s)"]
    # the throughput column gives no compute; the scales come from the headers
    got = {(f.field, f.normalized_value) for f in candidates(t)}
    assert got == {("parameters", 5.4e6), ("parameters", 9.2e6),
                   ("compute_per_pass", 1.3e9), ("compute_per_pass", 2.0e9)}


def test_group_header_spans_two_columns() -> None:
    # "ImageNet" centred over two columns, "Training cost" set across two
    [t] = tables(
        [(212, "ImageNet"), (350, "Training cost")],
        [(60, "Model"), (130, "Params"), (190, "Top-1"), (250, "Top-5"), (350, "FLOPs"),
         (400, "GPU days")],
        [(60, "ResNet-50"), (130, "25.6M"), (190, "76.1"), (250, "93.0"), (350, "4.1G"),
         (400, "12")],
        [(60, "OurNet-S"), (130, "21.0M"), (190, "79.8"), (250, "94.9"), (350, "3.2G"),
         (400, "40")],
    )
    heads = [(c.own_header, c.group_header) for c in t.columns]
    assert heads == [("Params", ""), ("Top-1", "ImageNet"), ("Top-5", "ImageNet"),
                     ("FLOPs", "Training cost"), ("GPU days", "Training cost")]
    got = {(f.field, f.normalized_value) for f in candidates(t)}
    # the cost group vetoes per-pass FLOPs under it; its device time is a training time
    assert not any(fld == "compute_per_pass" for fld, _ in got)
    assert {("training_time", 12 * 24.0), ("training_time", 40 * 24.0)} <= got
    assert {("parameters", 25.6e6), ("parameters", 21.0e6)} <= got


def test_transposed_table_models_are_columns() -> None:
    [t] = tables(
        [(60, "Model"), (160, "ResNet-50"), (230, "OurNet-S"), (300, "OurNet-B")],
        [(60, "#Params (M)"), (160, "25.6"), (230, "21.0"), (300, "45.3")],
        [(60, "FLOPs (G)"), (160, "4.1"), (230, "3.2"), (300, "7.9")],
        [(60, "Top-1 (%)"), (160, "76.1"), (230, "79.8"), (300, "81.2")],
    )
    assert [c.header_text for c in t.columns] == ["ResNet-50", "OurNet-S", "OurNet-B"]
    got = {(f.field, f.model, f.normalized_value) for f in candidates(t)}
    assert got == {("parameters", "ResNet-50", 25.6e6), ("parameters", "OurNet-S", 21.0e6),
                   ("parameters", "OurNet-B", 45.3e6),
                   ("compute_per_pass", "ResNet-50", 4.1e9),
                   ("compute_per_pass", "OurNet-S", 3.2e9),
                   ("compute_per_pass", "OurNet-B", 7.9e9)}
    assert {f.extra["layout"] for f in candidates(t)} == {"transposed"}


def test_row_labels_wrapped_above_and_grouped() -> None:
    [t] = tables(
        [(60, "Method"), (220, "Params"), (280, "Top-1")],
        [(60, "CNNs")],                                        # a row-group title
        [(60, "ResNet-50"), (220, "25.6M"), (280, "76.1")],
        [(60, "Our network with"), (220, "21.0M"), (280, "79.8")],
        [(60, "deformable layers")],                           # its label, wrapped
        [(60, "EfficientNet-B0"), (220, "5.3M"), (280, "77.1")],
        [(60, "Transformers")],                                # the next group
        [(60, "ViT-B/16"), (220, "86M"), (280, "77.9")],
        [(60, "OurNet-L (distilled teacher)")],                # a label above its values
        [(220, "45.3M"), (280, "81.2")],
        [(60, "DeiT-S"), (220, "22M"), (280, "79.8")],
    )
    got = [(r.label, r.group, r.cells[0].text) for r in t.rows]
    assert got == [("ResNet-50", "CNNs", "25.6M"),
                   ("Our network with deformable layers", "CNNs", "21.0M"),
                   ("EfficientNet-B0", "CNNs", "5.3M"),
                   ("ViT-B/16", "Transformers", "86M"),
                   ("OurNet-L (distilled teacher)", "Transformers", "45.3M"),
                   ("DeiT-S", "Transformers", "22M")]


def test_side_by_side_tables_on_a_two_column_page() -> None:
    rows = (
        [(60, "Model"), (180, "Params"), (240, "Top-1"),
         (330, "Model"), (450, "BLEU"), (510, "Params")],
        [(60, "ResNet-50"), (180, "25.6M"), (240, "76.1"),
         (330, "Transformer"), (450, "27.3"), (510, "65M")],
        [(60, "OurNet-S"), (180, "21.0M"), (240, "79.8"),
         (330, "OurSeq-Big"), (450, "29.1"), (510, "213M")],
        [(60, "OurNet-B"), (180, "45.3M"), (240, "81.2"),
         (330, "ConvS2S"), (450, "25.2"), (510, "216M")],
    )
    left, right = tables(*rows, two_column=True)
    assert (left.side, right.side) == ("L", "R")
    assert [r.label for r in left.rows] == ["ResNet-50", "OurNet-S", "OurNet-B"]
    assert [c.header_text for c in left.columns] == ["Params", "Top-1"]
    assert [r.label for r in right.rows] == ["Transformer", "OurSeq-Big", "ConvS2S"]
    assert [c.header_text for c in right.columns] == ["BLEU", "Params"]
    # on a page set in one column the same lines are one table read across
    [one] = tables(*rows)
    assert one.side == "F" and len(one.columns) == 4


def test_full_width_table_with_value_columns_in_the_right_half() -> None:
    [t] = tables(
        [(60, "Model"), (180, "Params"), (240, "FLOPs"), (330, "Top-1"), (390, "Top-5"),
         (450, "AP"), (510, "AP50")],
        [(60, "ResNet-50"), (180, "25.6M"), (240, "4.1G"), (330, "76.1"), (390, "93.0"),
         (450, "38.5"), (510, "58.1")],
        [(60, "OurNet-S"), (180, "21.0M"), (240, "3.2G"), (330, "79.8"), (390, "94.9"),
         (450, "41.2"), (510, "61.0")],
        [(60, "OurNet-B"), (180, "45.3M"), (240, "7.9G"), (330, "81.2"), (390, "95.4"),
         (450, "44.0"), (510, "63.3")],
        two_column=True,
    )
    assert t.side == "F"
    assert [c.header_text for c in t.columns] == ["Params", "FLOPs", "Top-1", "Top-5", "AP",
                                                 "AP50"]
    assert all(len(r.cells) == 6 for r in t.rows)


def test_sub_tables_repeating_their_headers_are_cut_apart() -> None:
    a, b = tables(
        [(60, "Model"), (125, "Params"), (185, "MAdds"), (245, "Top-1"),
         (320, "Model"), (385, "Params"), (445, "MAdds"), (505, "Top-1")],
        [(60, "MBv2"), (130, "3.4M"), (190, "300M"), (250, "72.0"),
         (320, "ResNet"), (390, "25.6M"), (450, "4.1G"), (510, "76.1")],
        [(60, "OurNet-A"), (130, "3.1M"), (190, "250M"), (250, "73.5"),
         (320, "OurNet-C"), (390, "21.0M"), (450, "3.2G"), (510, "79.8")],
    )
    assert [r.label for r in a.rows] == ["MBv2", "OurNet-A"]
    assert [r.label for r in b.rows] == ["ResNet", "OurNet-C"]
    assert [c.header_text for c in b.columns] == ["Params", "MAdds", "Top-1"]


def test_figure_ticks_are_not_tables() -> None:
    # a plot's y ticks down its axis and x ticks along it, a legend, an axis title
    assert tables(
        [(60, "80"), (100, "OurNet"), (300, "ResNet")],
        [(60, "78")], [(60, "76")], [(60, "74")],
        [(80, "0"), (140, "10"), (200, "20"), (260, "30"), (320, "40")],
        [(180, "Epochs")],
    ) == []
    # ticks stepping evenly down two axes beside a legend name
    assert tables(
        [(60, "Top-1")],
        [(60, "accuracy"), (100, "82"), (200, "2"), (300, "OurNet-B")],
        [(100, "80"), (200, "4")], [(100, "78"), (200, "6")], [(100, "76"), (200, "8")],
    ) == []
    # the same block named as a figure by its caption
    block = ([(60, "Params"), (180, "Top-1")],
             [(60, "ResNet-50"), (180, "76.1"), (240, "25.6")],
             [(60, "OurNet-S"), (180, "79.8"), (240, "21.0")])
    assert tables(*block, None, [(60, "Figure 3: Accuracy against size of our models.")]) == []
    # ... which is a table under a table's caption
    [t] = tables(*block, None, [(60, "Table 3: Accuracy against size of our models.")])
    assert [r.label for r in t.rows] == ["ResNet-50", "OurNet-S"]


def test_a_caption_belongs_to_the_nearest_table() -> None:
    first, second = tables(
        [(60, "Model"), (180, "Params"), (240, "Top-1")],
        [(60, "ResNet-50"), (180, "25.6M"), (240, "76.1")],
        [(60, "OurNet-S"), (180, "21.0M"), (240, "79.8")],
        None, None,
        [(60, "Table 2: Training cost of our models.")], None,
        [(60, "Model"), (180, "Epochs"), (240, "GPU days")],
        [(60, "OurNet-S"), (180, "300"), (240, "12")],
        [(60, "OurNet-B"), (180, "300"), (240, "40")],
    )
    assert second.caption == "Table 2: Training cost of our models."
    assert first.caption == ""  # the caption under it is the next table's
    assert [c.header_text for c in second.columns] == ["Epochs", "GPU days"]
    # alone, a table takes the caption right under it
    [only] = tables(
        [(60, "Model"), (180, "Params"), (240, "Top-1")],
        [(60, "ResNet-50"), (180, "25.6M"), (240, "76.1")],
        [(60, "OurNet-S"), (180, "21.0M"), (240, "79.8")],
        None,
        [(60, "Table 2: Sizes of our models.")],
    )
    assert only.caption == "Table 2: Sizes of our models."


def test_glued_superscript_is_its_own_word() -> None:
    # "224²" then the next cell: the smaller raised "2" neither joins 224 nor the next value
    words = [Word("OurNet-S", 60, 100, 100, 109), Word("224", 180, 195, 100, 109),
             Word("2", 195, 198.5, 98.5, 104, sup=True), Word("1226.1", 205, 235, 100, 109),
             Word("Model", 60, 85, 88, 97), Word("Size", 180, 200, 88, 97),
             Word("img/s", 205, 230, 88, 97),
             Word("ResNet-50", 60, 105, 112, 121), Word("224", 180, 195, 112, 121),
             Word("2", 195, 198.5, 110.5, 116, sup=True), Word("753.6", 205, 230, 112, 121)]
    lines = group_lines(words)
    assert [ln.text for ln in lines] == ["Model Size img/s", "OurNet-S 224 2 1226.1",
                                         "ResNet-50 224 2 753.6"]
    [t] = read_tables(lines, 1, WIDTH, [], False)
    assert [[c.text for c in r.cells.values()] for r in t.rows] == [["224", "1226.1"],
                                                                    ["224", "753.6"]]
