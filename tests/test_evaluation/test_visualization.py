"""Hit / miss / false-alarm pictures and the hook that writes them."""
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_serank.engine.hooks import IRSTDVisualizationHook
from mmseg_serank.evaluation.functional import detect_targets
from mmseg_serank.visualization import OUTCOME_COLORS, draw_detection_overlay


def scene():
    """40x50 image: one hit, one missed target, one false alarm."""
    target, prediction = np.zeros((40, 50), bool), np.zeros((40, 50), bool)
    target[10:12, 10:12] = True
    target[30:32, 40:42] = True
    prediction[10:12, 10:12] = True
    prediction[25, 5:8] = True
    image = np.full((40, 50), 90, np.uint8)
    image[target] = 250
    return image, prediction, target


def has_color(picture, color):
    return bool((picture == np.array(color, np.uint8)).all(axis=-1).any())


def test_overlay_marks_each_outcome_in_its_colour():
    image, prediction, target = scene()
    detection = detect_targets(prediction, target)
    picture = draw_detection_overlay(image, detection, title='scene',
                                     min_display_size=200)
    assert picture.dtype == np.uint8 and picture.shape[2] == 3
    assert picture.shape[1] == 50 * 4 and picture.shape[0] > 40 * 4  # + legend
    for outcome in ('hit', 'missed', 'false_alarm', 'ground_truth'):
        assert has_color(picture[:160], OUTCOME_COLORS[outcome]), outcome
    clean = draw_detection_overlay(image, detect_targets(target, target),
                                   min_display_size=200)
    assert not has_color(clean[:160], OUTCOME_COLORS['false_alarm'])
    assert not has_color(clean[:160], OUTCOME_COLORS['missed'])

    # No prediction at all (every target missed), and an empty scene.
    nothing = np.zeros_like(target)
    missed_all = draw_detection_overlay(image, detect_targets(nothing, target),
                                        min_display_size=200)
    assert has_color(missed_all[:160], OUTCOME_COLORS['missed'])
    assert not has_color(missed_all[:160], OUTCOME_COLORS['hit'])
    empty = draw_detection_overlay(image, detect_targets(nothing, nothing),
                                   min_display_size=200)
    assert empty.shape == clean.shape


def test_hook_writes_one_png_per_test_image(tmp_path):
    image, prediction, target = scene()
    image_path = tmp_path / 'scene_01.png'
    cv2.imwrite(str(image_path), image)
    sample = SegDataSample(metainfo=dict(img_path=str(image_path)))
    sample.seg_logits = PixelData(data=torch.as_tensor(prediction * 0.8)[None].float())
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(target.astype(np.int64))[None])
    out_dir = tmp_path / 'vis'
    hook = IRSTDVisualizationHook(draw=True, out_dir=str(out_dir))
    runner = SimpleNamespace(iter=7, work_dir=str(tmp_path), timestamp='t')
    hook.after_test_iter(runner, 0, {}, [sample])
    hook.after_val_iter(runner, 0, {}, [sample])
    written = cv2.imread(str(out_dir / 'scene_01.png'))
    assert written is not None and written.shape[1] >= 512
    assert (out_dir / 'val_iter_7' / 'scene_01.png').is_file()
    IRSTDVisualizationHook(draw=False, out_dir=str(tmp_path / 'off')).after_test_iter(
        runner, 0, {}, [sample])
    assert not (tmp_path / 'off').exists()


def test_hook_raises_on_a_picture_name_over_255_bytes(tmp_path):
    """An image file without extension and a 254-byte name gives a 258-byte
    picture name; cv2.imwrite only returned False there."""
    image, prediction, target = scene()
    image_path = tmp_path / ('n' * 254)
    image_path.write_bytes(cv2.imencode('.png', image)[1].tobytes())
    sample = SegDataSample(metainfo=dict(img_path=str(image_path)))
    sample.seg_logits = PixelData(data=torch.as_tensor(prediction * 0.8)[None].float())
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(target.astype(np.int64))[None])
    out_dir = tmp_path / 'vis'
    hook = IRSTDVisualizationHook(draw=True, out_dir=str(out_dir))
    runner = SimpleNamespace(iter=1, work_dir=str(tmp_path), timestamp='t')
    hook.before_run(runner)
    with pytest.raises(OSError, match=re.escape(f'{out_dir / ("n" * 254)}.png: cannot write')):
        hook.after_test_iter(runner, 0, {}, [sample])


@pytest.mark.parametrize('settings', [dict(match_distance=-1), dict(connectivity=6)])
def test_hook_refuses_detection_settings_the_metric_refuses(settings):
    with pytest.raises(ValueError, match=next(iter(settings))):
        IRSTDVisualizationHook(draw=True, **settings)
