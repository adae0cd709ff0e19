"""extract stage: PDF -> candidate compute facts and results, with evidence."""

from extract.extractor import extract_pdf
from extract.model import EXTRACTOR_VERSION, Fact, PaperExtraction, to_gold_shape

__all__ = ["EXTRACTOR_VERSION", "Fact", "PaperExtraction", "extract_pdf", "to_gold_shape"]
