"""The hardware catalog: aliases, dates, counting conventions, sources, Epoch cross-check."""

from __future__ import annotations

import csv
import json

import pytest

from extract.catalog import (
    canonical_name,
    catalog_version,
    find_mentions,
    get_chip,
    load_catalog,
    load_systems,
    resolve,
)

REQUIRED = ["GTX 580", "GTX 680", "Titan Black", "Titan X (Maxwell)", "Titan X (Pascal)",
            "Titan Xp", "Titan V", "Titan RTX", "GTX 1080", "GTX 1080 Ti", "RTX 2080 Ti",
            "RTX 3090", "K20", "K20X", "K40", "K80", "M40", "P40", "P100", "P100 (PCIe)",
            "V100", "V100 (PCIe)", "T4", "A100", "A6000", "H100", "TPU v2", "TPU v3",
            "TPU v4", "GPU", "CPU"]


def test_catalog_has_every_required_chip_with_unique_keys():
    keys = [c.chip for c in load_catalog()]
    assert len(keys) == len(set(keys))
    missing = [k for k in REQUIRED if k not in keys]
    assert not missing


def test_every_row_has_a_source_and_sane_numbers():
    for c in load_catalog():
        assert c.source.strip(), c.chip
        assert c.kind in {"gpu", "tpu", "cpu", "generic"}, c.chip
        assert c.devices_per_board >= 1 and c.cores_per_chip >= 1
        if c.kind == "gpu":
            assert c.fp32_base_gflops and c.fp32_boost_gflops, c.chip
            assert c.fp32_base_gflops <= c.fp32_boost_gflops, c.chip
            assert c.release_date, c.chip
        if c.kind == "tpu":
            # Convention: TPUs publish no FP32 peak; the tensor peak stands in.
            assert c.fp32_base_gflops is None and c.tensor_gflops, c.chip
            assert c.cores_per_chip == 2
        if c.kind == "generic":
            assert c.fp32_base_gflops is None and c.tensor_gflops is None, c.chip


def test_paper_convention_for_the_1080_ti():
    # Thompson et al. (2020): 3584 CUDA cores x 2 x 1.480 GHz = 10,609 GFLOPS.
    assert get_chip("GTX 1080 Ti").fp32_base_gflops == pytest.approx(3584 * 2 * 1.480, abs=1)


def _epoch_rows(shared):
    path = shared / "epoch" / "ml_hardware.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with open(path, encoding="utf-8") as fh:
        return {r["Hardware name"]: r for r in csv.DictReader(fh)}


def test_figures_agree_with_epoch(shared):
    epoch = _epoch_rows(shared)
    checked = 0
    for c in load_catalog():
        if not c.epoch_name:
            continue
        row = epoch.get(c.epoch_name)
        assert row is not None, f"{c.chip}: Epoch has no row {c.epoch_name!r}"
        fp32 = row["FP32 (single precision) performance (FLOP/s)"]
        if c.kind == "gpu" and fp32 and c.chip != "K80":
            assert c.fp32_boost_gflops == pytest.approx(float(fp32) / 1e9, rel=0.03), c.chip
            checked += 1
        tensor = row["Tensor-FP16/BF16 performance (FLOP/s)"]
        if c.tensor_gflops and tensor:
            assert c.tensor_gflops == pytest.approx(float(tensor) / 1e9, rel=0.03), c.chip
        if c.release_date and row["Release date"]:
            # Same year; Epoch sometimes dates announcement, sometimes availability.
            assert c.release_date[:4] == row["Release date"][:4], c.chip
    assert checked >= 18
    # K80: Epoch lists 8.13 TFLOPS at 824 MHz, the catalog NVIDIA's 875 MHz boost.
    k80 = float(epoch["NVIDIA Tesla K80"]["FP32 (single precision) performance (FLOP/s)"])
    assert get_chip("K80").fp32_boost_gflops == pytest.approx(k80 / 1e9, rel=0.08)


@pytest.mark.parametrize("mention,chip", [
    ("NVIDIA Tesla V100-SXM2-32GB", "V100"),
    ("Tesla V100", "V100"),
    ("V100-PCIE-16GB", "V100 (PCIe)"),
    ("NVIDIA Tesla V100 SXM3 32GB", "V100"),
    ("Nvidia V100 (32GB)", "V100"),
    ("V100-32GB", "V100"),
    ("V100 GPUs", "V100"),
    ("V100s", "V100"),
    ("NVIDIA Volta V100", "V100"),
    ("TITAN Xp", "Titan Xp"),
    ("GeForce GTX 1080Ti", "GTX 1080 Ti"),
    ("1080 Ti", "GTX 1080 Ti"),
    ("GTX 1080", "GTX 1080"),
    ("K40m", "K40"),
    ("NVIDIA Tesla K40", "K40"),
    ("NVIDIA GTX 580 3GB", "GTX 580"),
    ("TPUv3", "TPU v3"),
    ("Cloud TPU v3", "TPU v3"),
    ("cloud TPUv3", "TPU v3"),
    ("TPU v2", "TPU v2"),
    ("RTX 2080 Ti", "RTX 2080 Ti"),
    ("NVIDIA A100", "A100"),
    ("Tesla P100-PCIE-16GB", "P100 (PCIe)"),
    ("GPUs", "GPU"),
    ("CPU", "CPU"),
    ("NVidia Kepler GPU", "Kepler"),
    ("Pascal GPUs", "Pascal"),
    ("NVIDIA Maxwell GPU", "Maxwell"),
    ("Volta GPUs", "Volta"),
    ("TPU", "TPU"),
])
def test_aliases_resolve(mention, chip):
    r = resolve(mention)
    assert r is not None, mention
    assert r.chip.chip == chip


def test_canonical_names_drop_the_variant():
    assert canonical_name("Titan X (Pascal)") == "Titan X"
    assert get_chip("Titan X (Maxwell)").name == "Titan X"
    assert get_chip("V100 (PCIe)").name == "V100"
    assert get_chip("GTX 1080 Ti").name == "GTX 1080 Ti"
    assert resolve("V100-PCIE-16GB").chip.name == "V100"


@pytest.mark.parametrize("mention,year,month,variant", [
    ("TITAN X", 2017, 3, "Pascal"),
    ("Titan X", 2016, 9, "Pascal"),
    ("TITAN X", 2016, 8, "Maxwell"),  # the month of the Pascal launch: still the old card
    ("TITAN X", 2016, 3, "Maxwell"),
    ("TITAN X", 2015, None, "Maxwell"),
    ("TitanX", 2018, 1, "Pascal"),
    ("Titan-X", 2017, 1, "Pascal"),
    ("GeForce GTX TITAN X", 2017, 3, "Maxwell"),  # the GTX name is only the Maxwell card
    ("Titan X (Pascal)", 2016, 5, "Pascal"),
    ("TITAN X", None, None, "Maxwell"),
])
def test_titan_x_by_date(mention, year, month, variant):
    r = resolve(mention, year=year, month=month)
    assert r.chip.variant == variant
    assert r.chip.name == "Titan X"


@pytest.mark.parametrize("mention,count,chips", [
    ("Cloud TPU v3-8", None, 4),
    ("TPU v3-8", 2, 8),
    ("TPUv3-32", None, 16),
    ("v2-8 TPU", None, 4),
    ("TPU v4-8", None, 4),
    ("TPUv3 Pod", None, 1024),
    ("TPU v3 pod", 2, 2048),
    ("TPU v2 pod", None, 256),
    ("TPUv3 cores", 2048, 1024),
    ("TPU v3 chips", 64, 64),
])
def test_tpu_forms_count_chips(mention, count, chips):
    r = resolve(mention)
    assert r.chip.kind == "tpu"
    assert r.chips(count) == chips


def test_tpu_core_unit_and_pod_slices():
    r = resolve("TPU v3")
    assert r.chips(2048, unit="core") == 1024
    assert r.chips(None) is None
    sliced = resolve("Cloud TPU v3 (Pod slices)")
    assert sliced.chip.chip == "TPU v3" and sliced.chips(None) is None


@pytest.mark.parametrize("mention,year,month,chip,n", [
    ("DGX-1", 2017, 3, "P100", 8),
    ("NVIDIA DGX-1", 2017, 9, "V100", 8),
    ("DGX-1", 2019, 1, "V100", 8),
    ("DGX-2", 2019, 1, "V100", 16),
    ("DGX A100", 2021, 1, "A100", 8),
    ("AWS p3.16xlarge instance", 2018, 1, "V100", 8),
    ("p3.2xlarge", 2018, 1, "V100", 1),
    ("p2.xlarge", 2017, 1, "K80", 0.5),
])
def test_systems_by_date(mention, year, month, chip, n):
    r = resolve(mention, year=year, month=month)
    assert r.chip.chip == chip
    assert r.chips(None) == n
    assert r.chips(2) == 2 * n


def test_k80_boards_and_gpus():
    k80 = get_chip("K80")
    assert k80.devices_per_board == 2
    assert resolve("K80").chips(4) == 4  # boards as named
    assert resolve("K80 GPUs").chips(4) == 2  # four GPUs are two boards
    assert resolve("Tesla K80").chips(4, unit="device") == 2


def test_leading_multiplier():
    r = resolve("8x P100")
    assert r.chip.chip == "P100" and r.chips(None) == 8


def test_unknown_returns_none():
    for mention in ("", "  ", "Banana 9000", "ResNet-50", "PASCAL VOC"):
        assert resolve(mention) is None, mention


def test_bad_unit_is_an_error():
    with pytest.raises(ValueError, match="unit"):
        resolve("V100").chips(2, unit="furlong")


def test_shared_aliases_only_between_variants_of_one_name():
    seen: dict[str, str] = {}
    for c in load_catalog():
        for a in c.aliases:
            key = a.lower().replace(" ", "").replace("-", "")
            assert seen.setdefault(key, c.name) == c.name, (a, c.chip)


def test_systems_name_known_chips():
    for s in load_systems():
        assert get_chip(s.chip) is not None, s.system
        assert s.chips_per_unit > 0 and s.source


def _spans(text):
    return [t for _, _, t in find_mentions(text)]


def test_find_mentions_in_sentences():
    text = ("We train on 8x P100 and 4 NVIDIA Tesla V100-SXM2-32GB GPUs, a TitanX, a Titan-X, "
            "V100s, 2048 TPUv3 cores, a Cloud TPU v3-8, a TPU v3 pod and one DGX-1.")
    assert _spans(text) == ["P100", "NVIDIA Tesla V100-SXM2-32GB GPUs", "TitanX", "Titan-X",
                            "V100s", "TPUv3 cores", "Cloud TPU v3-8", "TPU v3 pod", "DGX-1"]
    for start, end, span in find_mentions(text):
        assert text[start:end] == span
        assert resolve(span, year=2018, month=1) is not None, span


def test_find_mentions_prefers_longest_name():
    assert _spans("two GeForce GTX 1080 Ti cards") == ["GeForce GTX 1080 Ti cards"]
    assert _spans("a Titan Xp and a GTX 1080") == ["Titan Xp", "GTX 1080"]
    assert _spans("8xV100") == ["V100"]


def test_find_mentions_ignores_lookalikes():
    assert _spans("PASCAL VOC at 1080p with a 100-layer net, T4 in table A100x") == []
    assert _spans("a 100 epochs") == []


def test_every_alias_is_found_and_resolves_to_its_row():
    for c in load_catalog():
        for alias in c.aliases:
            spans = find_mentions(f"trained on {alias} for a week")
            assert [s for _, _, s in spans] == [alias], (c.chip, alias, spans)
            r = resolve(alias, year=2017, month=1)
            assert r is not None and r.chip.name == c.name, (c.chip, alias)


def test_catalog_version_is_stable():
    assert catalog_version() == catalog_version()
    assert len(catalog_version()) == 12


def test_load_into_store(store):
    from db.schema import T
    from extract.store_writer import ensure_hardware, hardware_loaded, load_hardware

    n = load_hardware(store)
    assert n == len(load_catalog())
    assert store.count(T.hardware) == n
    row = next(iter(store.db.query(f"select * from {T.hardware} where chip = 'Titan X (Pascal)'")))
    assert row["variant"] == "Pascal" and "Titan X" in json.loads(row["aliases"])
    assert row["catalog_version"] == catalog_version()
    assert hardware_loaded(store)
    assert ensure_hardware(store) == 0
    load_hardware(store)  # upsert: loading twice keeps one row per chip
    assert store.count(T.hardware) == n


def test_hardware_command(cli_run):
    r = cli_run("hardware", "TITAN X", "--year", "2017", "--json")
    assert r.exit_code == 0
    out = json.loads(r.output)
    assert out["resolution"]["chip"] == "Titan X (Pascal)"
    assert out["resolution"]["name"] == "Titan X"
    r = cli_run("hardware")
    assert r.exit_code == 0 and "GTX 1080 Ti" in r.output and "10,609" in r.output
    r = cli_run("hardware", "Cloud TPU v3-8")
    assert "4 x TPU v3" in r.output
    r = cli_run("hardware", "--load", "--db", "hw.db")
    assert r.exit_code == 0
    r = cli_run("hardware", "nonsense-chip")
    assert r.exit_code == 0 and "resolves to no chip" in r.output
