"""The served default guidance is chosen by measurement: lowest FID above the accuracy floor."""

from imf.evaluation.evaluate import choose_default

GRID = [
    {"omega": 1.0, "t_min": 0.0, "t_max": 1.0, "fid": 30.0, "accuracy": 0.97},
    {"omega": 2.0, "t_min": 0.3, "t_max": 0.7, "fid": 34.0, "accuracy": 0.991},
    {"omega": 3.0, "t_min": 0.0, "t_max": 1.0, "fid": 55.0, "accuracy": 0.997},
]


def test_the_lowest_fid_above_the_accuracy_floor_wins():
    assert choose_default(GRID, 0.99)["omega"] == 2.0


def test_a_lower_floor_admits_the_unguided_point():
    assert choose_default(GRID, 0.95)["omega"] == 1.0


def test_without_any_point_above_the_floor_the_most_accurate_is_chosen():
    assert choose_default(GRID, 0.999)["omega"] == 3.0
