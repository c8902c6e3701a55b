"""BMI without the built-in link (issue 16, item 5).

* The simulated letter images (the dataset's ``emnist/``) never use the glyphs the neural
  trials are written with; the old mixing stays available, bit for bit, as the ablation
  set ``emnist_mixed_fonts/`` (frames ``bmi_letters_mixed``, one extra LSM-CLIP row).
* Retrieval ranks distinct samples: with ``enlarge`` each neural trial is in 10 pairs,
  and ranking all pairs let its copies fill the top-k (letter -> neural top-5 = top-1)
  and put chance on the wrong count.
"""

from __future__ import annotations

import json
import math
import string

import numpy as np
import pytest

from lsm.config import REPO_ROOT as REPO
from lsm.config import class_ids, frame_names, load_yaml_strict, validate_config
from lsm.datasets.readers import emnist
from lsm.datasets.simulators import bmi_dataset as bd
from lsm.datasets.simulators import handwriting as hw
from lsm.errors import ConfigError
from lsm.zeroshot.pairing import PairSpec, make_pairs
from lsm.zeroshot.retrieval import chance_topk, retrieval_records

FONTS = [*hw.PRINT_FONTS, *hw.CURSIVE_FONTS]
LETTERS = string.ascii_lowercase


# --- font-disjoint letter images --------------------------------------------------------

def test_which_vendored_fonts_share_their_glyphs():
    """futural and rowmans (and scripts and cursive) draw every letter alike: excluding
    the writer's font by name alone would leave half of the link in place."""
    twins = {(a, b) for a in FONTS for b in FONTS if a < b
             and all(hw.same_glyph(c, a, b) for c in LETTERS)}
    assert twins == {("futural", "rowmans"), ("cursive", "scripts")}
    for a in FONTS:
        for b in FONTS:
            if a < b and (a, b) not in twins:
                assert not any(hw.same_glyph(c, a, b) for c in LETTERS), (a, b)


@pytest.mark.parametrize("writer", FONTS)
def test_default_images_never_use_the_writers_glyphs(writer):
    n_hit = n = 0
    for li, c in enumerate(LETTERS):
        for split_id in (2, 3):
            for k in range(40):
                f = bd.letter_image_fonts(0, split_id, li, k, writer)
                assert not hw.same_glyph(c, f["disjoint"], writer), (c, k, f)
                n_hit += hw.same_glyph(c, f["mixed"], writer)
                n += 1
                if not hw.same_glyph(c, f["mixed"], writer):
                    assert f["disjoint"] == f["mixed"]  # only the writer's draws change
    # the mixed rule (the old simulator) has the link: every font with the writer's glyphs
    # (print 70 % over 4 fonts, cursive 30 % over 2); 35 % for the default futural
    weight = {**{f: 0.7 / 4 for f in hw.PRINT_FONTS}, **{f: 0.3 / 2 for f in hw.CURSIVE_FONTS}}
    expect = sum(w for f, w in weight.items() if hw.same_glyph("a", f, writer))
    assert abs(n_hit / n - expect) < 0.04


def test_the_default_writer_keeps_the_print_cursive_mix():
    fonts = [bd.letter_image_fonts(0, 2, li, k, "futural")["disjoint"]
             for li in range(26) for k in range(60)]
    assert not {"futural", "rowmans"} & set(fonts)
    print_share = np.mean([f in hw.PRINT_FONTS for f in fonts])
    assert abs(print_share - 0.7) < 0.04


def _old_letter_images(letter, seed, n_train, n_test):
    """The simulator's image loop before version 2 (hershey-cosine-poisson-1), verbatim."""
    li = bd.willett.LETTERS.index(letter)
    out = []
    for split_id, n in ((2, n_train), (3, n_test)):
        imgs = np.empty((n, 28, 28), dtype=np.uint8)
        for k in range(n):
            rng = np.random.default_rng(np.random.SeedSequence([seed, split_id, li, k]))
            a = hw.random_affine(rng, 0.15)
            imgs[k] = hw.render([s @ a.T for s in hw.strokes(letter, bd._font(rng))], rng)
        out.append(imgs)
    return letter, out[0], out[1]


@pytest.mark.parametrize("letter", ["a", "q"])
def test_mixed_set_reproduces_the_old_simulator_and_differs_only_where_it_must(letter):
    _, old_train, old_test = _old_letter_images(letter, 0, 24, 8)
    _, new = bd._letter_images((letter, 0, 24, 8, "futural"))
    for split, old in (("train", old_train), ("test", old_test)):
        mixed, mixed_fonts = new[split]["mixed"]
        disjoint, disjoint_fonts = new[split]["disjoint"]
        assert np.array_equal(mixed, old)
        changed = np.array([a != b for a, b in zip(mixed_fonts, disjoint_fonts, strict=True)])
        same = np.array([np.array_equal(x, y) for x, y in zip(mixed, disjoint, strict=True)])
        assert same[~changed].all()
        assert not same[changed].any()
    assert any(f in ("futural", "rowmans") for f in new["train"]["mixed"][1])


def test_simulator_writes_both_sets_with_the_same_labels(tmp_path):
    m = bd.simulate_bmi(tmp_path, 3, 2, seed=0, workers=1, progress=False)
    assert m["generator_version"] == "hershey-cosine-poisson-2"
    assert set(m["contents"]) == {".", "emnist", "emnist_mixed_fonts"}
    sets = m["image_sets"]
    assert {k: v["image_fonts"] for k, v in sets.items()} == {
        "emnist": "disjoint", "emnist_mixed_fonts": "mixed"}
    for split in ("train", "test"):
        assert not {"futural", "rowmans"} & set(sets["emnist"]["font_counts"][split])
        a_img, a_lab = emnist.read_letters(tmp_path / "emnist", split)
        b_img, b_lab = emnist.read_letters(tmp_path / "emnist_mixed_fonts", split)
        assert np.array_equal(a_lab, b_lab) and a_img.shape == b_img.shape
        n_diff = sum(not np.array_equal(x, y) for x, y in zip(a_img, b_img, strict=True))
        n_writer = sum(v for f, v in sets["emnist_mixed_fonts"]["font_counts"][split].items()
                       if f in ("futural", "rowmans"))
        assert n_diff == n_writer
    assert sum(sets["emnist_mixed_fonts"]["font_counts"]["train"].values()) == 26 * 3
    assert json.loads((tmp_path / "MANIFEST.json").read_text())["image_sets"] == sets


# --- the ablation's wiring --------------------------------------------------------------

def _config(path="config/config.yaml"):
    return validate_config(load_yaml_strict(REPO / path))


def test_default_config_has_the_mixed_font_ablation_row():
    cfg = _config()
    assert cfg["datasets"]["bmi"]["simulate"]["image_fonts"] == "disjoint"
    enc = cfg["encoders"]
    assert enc["lsm_bmi_letters_mixed"]["dataset"] == "bmi_letters_mixed"
    assert ({k: v for k, v in enc["lsm_bmi_letters_mixed"].items() if k != "dataset"}
            == {k: v for k, v in enc["lsm_bmi_letters"].items() if k != "dataset"})
    runs = cfg["zeroshot"]["bmi"]["runs"]
    abl, base = runs["lsm_clip_mixed_fonts"], runs["lsm_clip_software"]
    assert abl["encoders"] == {"query": "lsm_bmi_neural", "gallery": "lsm_bmi_letters_mixed"}
    assert "ablation" in abl["variant"]
    diff = {k for k in {*abl, *base} if abl.get(k) != base.get(k)}
    assert diff == {"encoders", "variant"}


def test_mixed_letters_exist_for_simulated_data_only():
    assert "bmi_letters_mixed" in frame_names({"bmi": {"source": "simulated"}})
    assert "bmi_letters_mixed" not in frame_names({"bmi": {"source": "real"}})
    raw = load_yaml_strict(REPO / "config/config.yaml")
    raw["datasets"]["bmi"]["source"] = "real"
    with pytest.raises(ConfigError, match="simulated BMI data only"):
        validate_config(raw)


def test_image_fonts_is_validated():
    raw = load_yaml_strict(REPO / ".test/config/config.yaml")
    raw["datasets"]["bmi"]["simulate"]["image_fonts"] = "futural"
    with pytest.raises(ConfigError, match="image_fonts"):
        validate_config(raw)
    raw["datasets"]["bmi"]["simulate"]["image_fonts"] = "mixed"
    assert validate_config(raw)["datasets"]["bmi"]["simulate"]["image_fonts"] == "mixed"


# --- retrieval on distinct items --------------------------------------------------------

def _rec(recs, metric):
    (r,) = [r for r in recs if r["metric"] == metric]
    return r


def test_repeated_gallery_items_do_not_fill_the_top_k():
    """3 classes, 2 trials each, every trial in 5 pairs with 5 distinct images. An image
    of class 0 scores a wrong trial best and its own class's trial 2nd: top-1 misses,
    top-5 over distinct trials hits. Over all pairs the wrong trial's 5 copies fill the
    top 5, so top-5 = top-1 (the old ranking)."""
    trial_class = np.array([0, 0, 1, 1, 2, 2])
    ia = np.repeat(np.arange(6), 5)
    ib = np.arange(30)
    y = trial_class[ia]
    zt = np.eye(6)  # trial embeddings
    za = zt[ia]
    zb = np.zeros((30, 6))
    zb[y == 0] = 0.5 * zt[0] + 1.0 * zt[2]  # class 0 images: trial 2 (class 1) first
    zb[y == 1] = zt[2]
    zb[y == 2] = zt[4]
    old = retrieval_records(za, zb, y, ("n", "v"), sims=("dot",))
    new = retrieval_records(za, zb, y, ("n", "v"), sims=("dot",), ids=(ia, ib))
    assert _rec(old, "v2n_top5_dot")["value"] == _rec(old, "v2n_top1_dot")["value"]
    assert _rec(new, "v2n_top1_dot")["value"] == pytest.approx(100 * 2 / 3)
    assert _rec(new, "v2n_top5_dot")["value"] == 100.0
    # chance on the distinct gallery: 6 trials, 2 of the query's class
    assert _rec(new, "v2n_top1_dot")["chance"] == pytest.approx(100 / 3)
    assert _rec(new, "v2n_top5_dot")["chance"] == pytest.approx(100.0)  # 5 of 6 always hit
    assert _rec(old, "v2n_top5_dot")["chance"] == pytest.approx(
        100 * (1 - math.comb(20, 5) / math.comb(30, 5)))
    counts = {r["metric"]: r["value"] for r in new if "n_distinct" in r["metric"]}
    assert counts == {"n2v_n_distinct_query": 6, "n2v_n_distinct_gallery": 30,
                      "v2n_n_distinct_query": 30, "v2n_n_distinct_gallery": 6}
    assert all(r["unit"] == "" for r in new if "n_distinct" in r["metric"])
    assert _rec(new, "n2v_top1_dot")["n_queries"] == 6
    assert _rec(new, "v2n_top1_dot")["n_queries"] == 30


def test_distinct_queries_only_reweight_equal_repeats():
    rng = np.random.default_rng(0)
    ia, ib = np.repeat(np.arange(8), 4), np.arange(32)
    y = np.repeat(np.arange(4), 8)
    za, zb = rng.normal(size=(8, 5))[ia], rng.normal(size=(32, 5))
    old = retrieval_records(za, zb, y, ("n", "v"))
    new = retrieval_records(za, zb, y, ("n", "v"), ids=(ia, ib))
    for m in ("n2v_top1_dot", "n2v_top5_cos", "n2v_top1_cos"):
        assert _rec(new, m)["value"] == pytest.approx(_rec(old, m)["value"])
        assert _rec(new, m)["chance"] == pytest.approx(_rec(old, m)["chance"])


def test_ids_must_match_the_pairs():
    z, y = np.eye(4), np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="shapes"):
        retrieval_records(z, z, y, ("a", "b"), ids=(np.arange(3), np.arange(4)))
    with pytest.raises(ValueError, match="two classes"):
        retrieval_records(z, z, y, ("a", "b"), ids=(np.array([0, 0, 0, 1]), np.arange(4)))


def test_the_bmi_test_split_has_66_and_12_distinct_trials():
    y_trials = {s: np.repeat(np.arange(26), n) for s, n in (("train", 21), ("val", 3),
                                                            ("test", 3))}
    y_images = {s: np.repeat(np.arange(26), n) for s, n in (("train", 210), ("val", 30),
                                                            ("test", 40))}
    spec = PairSpec(tuple(class_ids(list("abcdefghijklmnopqrwxyz"))),
                    tuple(class_ids(list("stuv"))), 210, 30, 30, enlarge=10)
    pairs = make_pairs(y_trials, y_images, spec)
    rng = np.random.default_rng(1)
    for split, n_trials, n_images in (("test_seen", 66, 660), ("test_unseen", 12, 120)):
        p = pairs[split]
        za = rng.normal(size=(26 * 3, 4))[p.idx_a]
        zb = rng.normal(size=(p.labels.size, 4))
        recs = retrieval_records(za, zb, p.labels, ("n", "v"), ids=(p.idx_a, p.idx_b))
        counts = {r["metric"]: r["value"] for r in recs if "n_distinct" in r["metric"]}
        assert counts == {"n2v_n_distinct_query": n_trials, "n2v_n_distinct_gallery": n_images,
                          "v2n_n_distinct_query": n_images, "v2n_n_distinct_gallery": n_trials}
        per_class = n_trials // len(set(p.labels.tolist()))
        assert _rec(recs, "v2n_top5_cos")["chance"] == pytest.approx(
            chance_topk(np.arange(n_trials) // per_class, np.arange(n_trials) // per_class, 5))
