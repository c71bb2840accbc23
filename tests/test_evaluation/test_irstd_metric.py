"""IRSTDMetric: hand-computed scores, DDP-split equality, sweep, edge cases."""
import csv
import math

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from mmseg_serank.evaluation.metrics import IRSTDMetric


def scores(samples, **kwargs):
    metric = IRSTDMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def hand_made_samples(make_sample):
    """Three 10x10 images whose scores are easy to compute by hand."""
    target_a, pred_a = np.zeros((10, 10), bool), np.zeros((10, 10), bool)
    target_a[2:4, 2:4] = True  # 4 target pixels
    pred_a[2:4, 3:6] = True  # 6 predicted pixels, 2 of them on the target
    target_b = np.zeros((10, 10), bool)
    target_b[7, 7:9] = True  # 2 target pixels, nothing predicted
    empty = np.zeros((10, 10), bool)
    return [make_sample(pred_a * 0.9, target_a),
            make_sample(np.zeros((10, 10)), target_b),
            make_sample(np.full((10, 10), 0.2), empty)]


def test_hand_computed_iou_niou_pd_fa(make_sample):
    results = scores(hand_made_samples(make_sample))
    # image a: intersection 2 (rows 2-3, col 3), union 4 + 6 - 2 = 8.
    # image b: intersection 0, union 2. image c: empty union -> 0.
    assert results['IoU'] == pytest.approx(100 * 2 / 10)
    assert results['nIoU'] == pytest.approx(100 * (2 / 8 + 0 + 0) / 3)
    # target a: centroid (2.5, 2.5), prediction (2.5, 4): 1.5 px -> hit.
    assert results['Pd'] == pytest.approx(100 * 1 / 2)
    assert results['Fa'] == 0
    assert results['Precision'] == pytest.approx(100 * 2 / 6)
    assert results['Recall'] == pytest.approx(100 * 2 / 6)
    assert results['F1'] == pytest.approx(100 * 2 * 2 / 12)
    rewarded = scores(hand_made_samples(make_sample), empty_image_iou=1.0)
    assert rewarded['nIoU'] == pytest.approx(100 * (2 / 8 + 0 + 1) / 3)


def test_false_alarm_rate_counts_unmatched_pixels_over_all_pixels(make_sample):
    target, prediction = np.zeros((20, 30), bool), np.zeros((20, 30), bool)
    target[5, 5] = True
    prediction[5, 5] = True
    prediction[15, 20:23] = True  # 3-pixel false alarm
    results = scores([make_sample(prediction.astype(float), target),
                      make_sample(np.zeros((10, 10)), np.zeros((10, 10), bool))])
    assert results['Fa'] == pytest.approx(3 / (600 + 100))
    assert results['Pd'] == 100


def test_the_segmentors_prediction_is_scored_not_the_probability(make_sample):
    """The mask is the head's (pred_sem_seg); the metric has no threshold."""
    target = np.zeros((8, 8), bool)
    target[3:5, 3:5] = True
    probability = np.where(target, 0.4, 0.0)
    assert scores([make_sample(probability, target)])['IoU'] == 0  # default 0.5
    predicted = make_sample(probability, target)
    predicted['pred_sem_seg'] = dict(data=torch.as_tensor(target[None].astype(np.int64)))
    assert scores([predicted])['IoU'] == 100  # made with a head threshold of 0.3
    with pytest.raises(ValueError, match='set once, as model.decode_head.threshold'):
        scores([predicted], threshold=0.3)


def test_two_channel_logits_use_softmax(make_sample):
    target = np.zeros((8, 8), bool)
    target[2:4, 2:4] = True
    logits = torch.stack([torch.zeros(8, 8), torch.as_tensor(np.where(target, 3., -3.))])
    sample = make_sample(np.zeros((8, 8)), target)
    sample['seg_logits']['data'] = logits
    assert scores([sample])['IoU'] == 100


def test_split_across_processes_gives_identical_scores(make_sample, blob_masks):
    rng = np.random.default_rng(3)
    samples = [make_sample(p, t) for p, t in blob_masks(rng, 24, size=32)]
    single = IRSTDMetric(thresholds=4, curve_bins=50)
    single.process({}, samples)
    first, second = IRSTDMetric(thresholds=4, curve_bins=50), \
        IRSTDMetric(thresholds=4, curve_bins=50)
    first.process({}, samples[::2])  # DistributedSampler-style interleaving
    second.process({}, samples[1::2])
    # mmengine gathers rank by rank; any order must give the same totals.
    gathered = second.results + first.results
    expected = single.compute_metrics(single.results)
    assert single.compute_metrics(gathered) == expected
    assert all(not math.isnan(value) for value in expected.values())


def test_keys_are_prefixed_for_save_best(make_sample):
    target = np.zeros((8, 8), bool)
    target[2, 2] = True
    evaluator = Evaluator(dict(type='IRSTDMetric', _scope_='mmseg'))
    evaluator.process([make_sample(target * 1.0, target)])
    metrics = evaluator.evaluate(1)
    # CheckpointHook(save_best='IRSTD/IoU', rule='greater') reads this key.
    assert set(metrics) == {f'IRSTD/{key}' for key in (
        'IoU', 'nIoU', 'Pd', 'Fa', 'Precision', 'Recall', 'F1')}
    assert metrics['IRSTD/IoU'] == 100


def test_empty_dataset_raises_clear_error():
    with pytest.raises(ValueError, match='no images'):
        IRSTDMetric().compute_metrics([])


def test_undefined_ratios_are_nan_without_targets(make_sample):
    results = scores([make_sample(np.zeros((6, 6)), np.zeros((6, 6), bool))])
    assert math.isnan(results['Pd']) and math.isnan(results['IoU'])
    assert results['Fa'] == 0 and results['nIoU'] == 0


def test_bad_inputs_name_the_image(make_sample):
    target = np.zeros((6, 6), np.int64)
    target[1, 1] = 255
    sample = make_sample(np.zeros((6, 6)), target, img_path='masks/a.png')
    sample['gt_sem_seg']['data'] = torch.as_tensor(target)[None]
    with pytest.raises(ValueError, match=r'masks/a\.png.*0/1'):
        scores([sample])
    logits = make_sample(np.full((6, 6), 4.0), np.zeros((6, 6)), img_path='b.png')
    with pytest.raises(ValueError, match=r'b\.png.*outside \[0, 1\]'):
        scores([logits])
    for bad_value in (np.nan, -1e-3, np.inf):
        probability = np.full((6, 6), 0.2)
        probability[2, 3] = bad_value
        with pytest.raises(ValueError, match=r'd\.png.*outside \[0, 1\] or NaN'):
            scores([make_sample(probability, np.zeros((6, 6)), img_path='d.png')])
    # -0.0 is a valid probability (its sign bit trips only the fast path).
    signed_zero = np.full((6, 6), -0.0)
    assert scores([make_sample(signed_zero, np.zeros((6, 6)))])['Fa'] == 0
    mismatched = make_sample(np.zeros((6, 6)), np.zeros((5, 6)), img_path='c.png')
    with pytest.raises(ValueError, match=r'c\.png.*shape'):
        scores([mismatched])
    with pytest.raises(ValueError, match='thresholds'):
        IRSTDMetric(thresholds=[0.5, 1.5])


def test_sweep_writes_curves_and_agrees_with_single_threshold(
        make_sample, blob_masks, tmp_path):
    rng = np.random.default_rng(5)
    samples = [make_sample(p, t) for p, t in blob_masks(rng, 12, size=32)]
    swept = scores(samples, thresholds=[0.3, 0.5, 0.7], output_dir=str(tmp_path))
    single = scores(samples)
    for key in ('IoU', 'Pd', 'Fa', 'Precision', 'Recall', 'F1', 'nIoU'):
        assert swept[key] == single[key]
    assert 0 <= swept['ROC_AUC'] <= 1 and 0 <= swept['PR_AUC'] <= 1
    assert (tmp_path / 'irstd_curves.png').stat().st_size > 0
    with open(tmp_path / 'irstd_sweep.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row['threshold']) for row in rows] == [0.3, 0.5, 0.7]
    at_half = rows[1]
    for key in ('IoU', 'Pd', 'F1'):
        assert float(at_half[key]) == pytest.approx(single[key], rel=1e-9)
    # Raising the threshold can only shrink the predicted pixels.
    recalls = [float(row['Recall']) for row in rows]
    assert recalls == sorted(recalls, reverse=True)
    with open(tmp_path / 'irstd_pixel_curves.csv') as handle:
        curve = list(csv.DictReader(handle))
    assert float(curve[-1]['fpr']) == 1 and float(curve[-1]['tpr']) == 1


def test_count_of_thresholds_is_evenly_spaced_inside_unit_interval():
    np.testing.assert_allclose(IRSTDMetric(thresholds=3).thresholds, [0.25, 0.5, 0.75])


@pytest.mark.parametrize('bad_value', [np.nan, np.inf, -np.inf])
def test_non_finite_two_channel_logits_name_the_image(make_sample, bad_value):
    target = np.zeros((6, 6), bool)
    target[2, 2] = True
    logits = torch.zeros(2, 6, 6)
    logits[1, 4, 4] = bad_value
    sample = make_sample(np.zeros((6, 6)), target, img_path='two/e.png')
    sample['seg_logits']['data'] = logits
    with pytest.raises(ValueError, match=r'two/e\.png.*NaN or inf'):
        scores([sample])


@pytest.mark.parametrize('settings, message', [
    (dict(match_distance=-1), 'match_distance'),
    (dict(match_distance=0), 'match_distance'),
    (dict(match_distance=float('nan')), 'match_distance'),
    (dict(match_distance='3'), 'match_distance'),
    (dict(empty_image_iou=5), 'empty_image_iou'),
    (dict(empty_image_iou=-0.5), 'empty_image_iou'),
    (dict(empty_image_iou=float('nan')), 'empty_image_iou'),
    (dict(connectivity=6), 'connectivity'),
    (dict(connectivity=True), 'connectivity'),
    (dict(thresholds=0), 'thresholds'),
    (dict(thresholds=2.5), 'thresholds'),
    (dict(thresholds=True), 'thresholds'),
    (dict(thresholds=[]), 'thresholds'),
    (dict(thresholds=[0.2, float('nan')]), 'thresholds'),
    (dict(thresholds=[0.5, 1.5]), 'thresholds'),
    (dict(thresholds=['low']), 'thresholds'),
    (dict(curve_bins=0), 'curve_bins'),
])
def test_settings_that_would_score_silently_wrong_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        IRSTDMetric(**settings)
    # The config route a user takes gives the same error.
    with pytest.raises(ValueError, match=message):
        Evaluator(dict(type='IRSTDMetric', _scope_='mmseg', **settings))


def test_valid_edge_settings_are_accepted():
    metric = IRSTDMetric(match_distance=0.5, connectivity=4, empty_image_iou=1,
                         thresholds=np.int64(2), curve_bins=1)
    np.testing.assert_allclose(metric.thresholds, [1 / 3, 2 / 3])
    np.testing.assert_allclose(IRSTDMetric(thresholds=[0.7, 0.0, 0.7]).thresholds, [0, 0.7])


SIRST3_GROUPS = {'NUAA-SIRST': r'Misc_\d+\.', 'NUDT-SIRST': r'/\d{6}\.', 'IRSTD-1k': r'XDU\d+\.'}


def test_dataset_groups_score_each_data_set_like_its_own_run(make_sample):
    """A joint (SIRST3) test set: the pooled scores plus each group's own, equal to
    scoring that group's images alone."""
    samples = hand_made_samples(make_sample)
    paths = ['d/images/Misc_1.png', 'd/images/000001.png', 'd/images/XDU7.png']
    for sample, path in zip(samples, paths):
        sample['img_path'] = path
    extra = make_sample(np.eye(10) * 0.9, np.eye(10, dtype=bool))
    extra['img_path'] = 'd/images/Misc_20.png'
    grouped = scores(samples + [extra], dataset_groups=SIRST3_GROUPS)
    pooled = scores(samples + [extra])
    nuaa = scores([samples[0], extra])
    nudt = scores([samples[1]])
    for key, value in pooled.items():
        assert grouped[key] == pytest.approx(value, nan_ok=True)
    for key, value in nuaa.items():
        assert grouped[f'NUAA-SIRST/{key}'] == pytest.approx(value, nan_ok=True)
    for key, value in nudt.items():
        assert grouped[f'NUDT-SIRST/{key}'] == pytest.approx(value, nan_ok=True)
    assert grouped['IRSTD-1k/Pd'] != grouped['IRSTD-1k/Pd']  # no targets there: NaN
    assert grouped['NUAA-SIRST/IoU'] != pooled['IoU']


@pytest.mark.parametrize('path, message', [
    ('d/images/other_3.png', 'matches no group'),
    ('d/Misc_1.png/XDU3.png', 'matches the groups NUAA-SIRST, IRSTD-1k'),
])
def test_an_image_outside_or_in_two_groups_is_named(make_sample, path, message):
    sample = make_sample(np.zeros((4, 4)), np.zeros((4, 4), bool), img_path=path)
    metric = IRSTDMetric(dataset_groups=SIRST3_GROUPS)
    with pytest.raises(ValueError, match=f'{path}.*{message}'):
        metric.process({}, [sample])


def test_a_group_without_test_images_is_an_error(make_sample):
    sample = make_sample(np.zeros((4, 4)), np.zeros((4, 4), bool), img_path='d/Misc_1.png')
    metric = IRSTDMetric(dataset_groups=SIRST3_GROUPS)
    metric.process({}, [sample])
    with pytest.raises(ValueError, match="no test image belongs to 'NUDT-SIRST'"):
        metric.compute_metrics(metric.results)


@pytest.mark.parametrize('groups', [{}, {'a/b': 'x'}, {'a': '('}, ['x']])
def test_bad_dataset_groups_are_refused(groups):
    with pytest.raises(ValueError, match='dataset_groups'):
        IRSTDMetric(dataset_groups=groups)


def test_a_regex_split_at_its_comma_by_the_command_line_is_named():
    # What mmengine's DictAction makes of test_evaluator.dataset_groups="[A=x{1,3},B=y]".
    with pytest.raises(ValueError, match=r"\['3}'\] in .* is not \"NAME=REGEX\"; on the "
                                         'command line every comma'):
        IRSTDMetric(dataset_groups=['A=x{1', '3}', 'B=y'])


@pytest.mark.parametrize('name', ['irstd_sweep.csv', 'irstd_pixel_curves.csv',
                                  'irstd_curves.png'])
def test_a_link_where_the_sweep_writes_is_refused_before_scoring(
        make_sample, blob_masks, tmp_path, name):
    victim = tmp_path / 'users_file.txt'
    victim.write_text('the user\'s own file\n')
    output_dir = tmp_path / 'curves'
    output_dir.mkdir()
    (output_dir / name).symlink_to(victim)
    with pytest.raises(OSError, match=f'{output_dir / name} is a symbolic link; refusing'):
        IRSTDMetric(thresholds=3, output_dir=str(output_dir))
    assert victim.read_text() == 'the user\'s own file\n'
    # The regular files of an earlier sweep are simply replaced.
    (output_dir / name).unlink()
    rng = np.random.default_rng(5)
    samples = [make_sample(p, t) for p, t in blob_masks(rng, 4, size=32)]
    scores(samples, thresholds=3, output_dir=str(output_dir))
    scores(samples, thresholds=3, output_dir=str(output_dir))
    assert sorted(path.name for path in output_dir.iterdir()) == [
        'irstd_curves.png', 'irstd_pixel_curves.csv', 'irstd_sweep.csv']


def test_an_output_dir_that_is_a_file_is_refused_before_scoring(tmp_path):
    not_a_folder = tmp_path / 'curves'
    not_a_folder.write_text('a file\n')
    with pytest.raises(NotADirectoryError, match=f'output_dir {not_a_folder} exists and is '
                                                 'not a folder'):
        IRSTDMetric(thresholds=3, output_dir=str(not_a_folder))
    assert not_a_folder.read_text() == 'a file\n'
