"""The served default guidance is chosen by measurement: above the accuracy floor, the point
closest to the real pixels, replaced by a lower feature FID only where no pixel measure is worse."""

from imf.evaluation.evaluate import choose_default

REAL = {"zero_fraction": 0.80, "haze_fraction": 0.03, "pixel_diversity": 0.30}


def point(omega, fid, accuracy, zero=0.7, haze=0.05, hist=0.1, pixel_fd=10.0, div=0.3):
    return {"omega": omega, "t_min": 0.0, "t_max": 1.0, "fid": fid, "accuracy": accuracy,
            "zero_fraction": zero, "haze_fraction": haze, "histogram_distance": hist,
            "pixel_fd": pixel_fd, "pixel_diversity": div}


def test_a_lower_feature_fid_wins_when_no_pixel_measure_gets_worse():
    grid = [point(1.0, 40.0, 0.995), point(2.0, 30.0, 0.995)]
    assert choose_default(grid, 0.99, REAL)["omega"] == 2.0


def test_a_lower_feature_fid_bought_with_haze_does_not_win():
    grid = [point(1.0, 40.0, 0.995), point(2.0, 30.0, 0.995, haze=0.10)]
    assert choose_default(grid, 0.99, REAL)["omega"] == 1.0


def test_a_lower_feature_fid_bought_with_fewer_black_pixels_does_not_win():
    grid = [point(1.0, 40.0, 0.995), point(2.0, 30.0, 0.995, zero=0.6)]
    assert choose_default(grid, 0.99, REAL)["omega"] == 1.0


def test_the_anchor_is_the_lowest_pixel_fd_above_the_floor():
    grid = [point(1.0, 40.0, 0.97, pixel_fd=5.0), point(2.0, 50.0, 0.995, pixel_fd=9.0),
            point(3.0, 60.0, 0.997, pixel_fd=12.0)]
    assert choose_default(grid, 0.99, REAL)["omega"] == 2.0


def test_a_lower_floor_admits_the_unguided_point():
    grid = [point(1.0, 40.0, 0.97, pixel_fd=5.0), point(2.0, 50.0, 0.995, pixel_fd=9.0)]
    assert choose_default(grid, 0.95, REAL)["omega"] == 1.0


def test_without_any_point_above_the_floor_the_most_accurate_is_chosen():
    grid = [point(1.0, 40.0, 0.97), point(3.0, 60.0, 0.98, pixel_fd=20.0)]
    assert choose_default(grid, 0.999, REAL)["omega"] == 3.0
