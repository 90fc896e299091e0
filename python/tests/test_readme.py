"""The quick starts of README.md and python/README.md run as written (with a small data set
for the X, y they leave to the reader)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import REPO

BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks():
    for path in (REPO / "README.md", REPO / "python" / "README.md"):
        for i, code in enumerate(BLOCK.findall(path.read_text())):
            yield pytest.param(code, id=f"{path.relative_to(REPO)}#{i}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_quick_start_runs(code):
    if "torch" in code:
        pytest.importorskip("torch")
    if "xgboost" in code:
        pytest.importorskip("xgboost")
    if "lightgbm" in code:
        pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = (X[:, 0] + 0.5 * rng.normal(size=2000) > 1.6).astype(np.float64)
    exec(compile(code, "<README>", "exec"), {"X": X, "y": y})


def test_both_readmes_show_the_four_quick_starts():
    for path in (REPO / "README.md", REPO / "python" / "README.md"):
        code = "\n".join(BLOCK.findall(path.read_text()))
        for needle in ("focal_loss_rs as fl", "focal_loss_rs.torch", "focal_loss_rs.xgboost",
                       "focal_loss_rs.lightgbm"):
            assert needle in code, (path, needle)
