"""The example plugin honours automl_fin's plugin contract."""

from automl_fin_scorecard import SCORECARD, WOE_BINS

from automl_fin.testing import check_plugin


def test_woe_bins_honours_the_contract() -> None:
    check_plugin(WOE_BINS)


def test_scorecard_honours_the_contract() -> None:
    check_plugin(SCORECARD)
