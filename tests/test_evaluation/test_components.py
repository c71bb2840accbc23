"""Connected components: scikit-image order and centroids, connectivity."""
import numpy as np
import pytest
from scipy import ndimage

from mmseg_serank.evaluation.functional import label_components


def test_label_order_and_centroids_match_scipy_raster_labelling():
    # scipy.ndimage.label numbers components in raster order like skimage.
    rng = np.random.default_rng(0)
    for _ in range(100):
        mask = rng.random(tuple(rng.integers(1, 40, 2))) > rng.uniform(0.5, 0.95)
        expected, count = ndimage.label(mask, structure=np.ones((3, 3)))
        components = label_components(mask, connectivity=8)
        assert len(components) == count
        assert np.array_equal(components.full_label_map(mask.shape), expected)
        if count:
            index = np.arange(1, count + 1)
            centroids = np.array(ndimage.center_of_mass(mask, expected, index))
            np.testing.assert_allclose(components.centroids, centroids, rtol=0,
                                       atol=1e-12)
            np.testing.assert_array_equal(
                components.areas, ndimage.sum(mask, expected, index))
            assert np.array_equal(components.pixel_indices, np.flatnonzero(mask))


def test_diagonal_neighbours_join_only_with_8_connectivity():
    mask = np.zeros((6, 6), bool)
    mask[1:3, 1:3] = True
    mask[3:5, 3:5] = True  # touches the first square at one corner
    assert len(label_components(mask, connectivity=8)) == 1
    four = label_components(mask, connectivity=4)
    assert len(four) == 2
    np.testing.assert_array_equal(four.centroids, [[1.5, 1.5], [3.5, 3.5]])


def test_empty_mask_and_bad_arguments():
    empty = label_components(np.zeros((5, 7), bool))
    assert len(empty) == 0 and empty.centroids.shape == (0, 2)
    assert not empty.full_label_map((5, 7)).any()
    with pytest.raises(ValueError, match='connectivity'):
        label_components(np.zeros((3, 3)), connectivity=6)
    with pytest.raises(ValueError, match='2-D'):
        label_components(np.zeros((1, 3, 3)))
