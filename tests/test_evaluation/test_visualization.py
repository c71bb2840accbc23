"""Hit / miss / false-alarm pictures, the visualiser that sends them to the vis
backends and the hook that draws them."""
import re
from itertools import count
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_serank.engine.hooks import IRSTDVisualizationHook
from mmseg_serank.evaluation.functional import detect_targets
from mmseg_serank.visualization import (
    OUTCOME_COLORS,
    IRSTDLocalVisualizer,
    draw_detection_overlay,
)

_names = count()


def visualizer(tmp_path, *backends: str) -> IRSTDLocalVisualizer:
    """A fresh current visualiser (the hooks pick the latest instance)."""
    return IRSTDLocalVisualizer.get_instance(
        f'irstd_vis_{next(_names)}', save_dir=str(tmp_path / 'run'),
        vis_backends=[dict(type=backend) for backend in backends] or None)


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


def scene_sample(tmp_path, name: str = 'scene_01.png', image=None) -> SegDataSample:
    scene_image, prediction, target = scene()
    image_path = tmp_path / name
    encoded = cv2.imencode('.png', scene_image if image is None else image)[1]
    image_path.write_bytes(encoded.tobytes())
    sample = SegDataSample(metainfo=dict(img_path=str(image_path)))
    sample.seg_logits = PixelData(data=torch.as_tensor(prediction * 0.8)[None].float())
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(target.astype(np.int64))[None])
    return sample


def test_hook_writes_one_png_per_test_image(tmp_path):
    visualizer(tmp_path)
    sample = scene_sample(tmp_path)
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
    visualizer(tmp_path)
    sample = scene_sample(tmp_path, 'n' * 254)
    out_dir = tmp_path / 'vis'
    hook = IRSTDVisualizationHook(draw=True, out_dir=str(out_dir))
    runner = SimpleNamespace(iter=1, work_dir=str(tmp_path), timestamp='t')
    hook.before_run(runner)
    with pytest.raises(OSError, match=re.escape(f'{out_dir / ("n" * 254)}.png: cannot write')):
        hook.after_test_iter(runner, 0, {}, [sample])


@pytest.mark.parametrize('settings', [dict(match_distance=2), dict(connectivity=4)])
def test_hook_takes_the_metrics_detection_settings_not_its_own(settings):
    with pytest.raises(ValueError, match=f'{next(iter(settings))} is set once, as the '
                       'IRSTDMetric of val_evaluator / test_evaluator'):
        IRSTDVisualizationHook(draw=True, **settings)


def tensorboard_images(log_dir) -> dict:
    """``{tag: [(step, BGR picture), ...]}`` read back from the event files in ``log_dir``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(log_dir), size_guidance={'images': 0})
    events.Reload()
    return {tag: [(event.step, cv2.imdecode(np.frombuffer(event.encoded_image_string,
                                                          np.uint8), cv2.IMREAD_COLOR))
                  for event in events.Images(tag)]
            for tag in events.Tags()['images']}


def test_stock_hook_sends_the_outcome_picture_to_every_backend(tmp_path):
    """mmseg's SegVisualizationHook + IRSTDLocalVisualizer: LocalVisBackend files
    and TensorBoard events both get the hit / miss / false-alarm picture."""
    pytest.importorskip('tensorboard')
    from mmseg.engine.hooks import SegVisualizationHook
    visualizer(tmp_path, 'LocalVisBackend', 'TensorboardVisBackend')
    sample = scene_sample(tmp_path)
    hook = SegVisualizationHook(draw=True, interval=1)
    hook.after_test_iter(SimpleNamespace(iter=7), 0, {}, [sample])
    vis_data = tmp_path / 'run' / 'vis_data'
    local = cv2.imread(str(vis_data / 'vis_image' / 'test_scene_01.png_7.png'))
    assert local is not None
    logged = tensorboard_images(vis_data)
    assert list(logged) == ['test_scene_01.png']
    (step, picture), = logged['test_scene_01.png']
    assert step == 7 and np.array_equal(picture, local)
    for outcome in ('hit', 'missed', 'false_alarm', 'ground_truth'):
        assert has_color(picture, OUTCOME_COLORS[outcome]), outcome
    # Not darkened: the background (grey 90) keeps its value, enlarged 512/50 -> 11x.
    assert (picture[0:100, 200:500] == 90).all()


def test_irstd_hook_sends_pictures_to_the_backends_without_out_dir(tmp_path):
    visualizer(tmp_path, 'LocalVisBackend')
    hook = IRSTDVisualizationHook(draw=True)
    hook.after_val_iter(SimpleNamespace(iter=3), 0, {}, [scene_sample(tmp_path)])
    assert [p.name for p in (tmp_path / 'run/vis_data/vis_image').iterdir()] == [
        'val_scene_01_3.png']


def test_irstd_hook_shows_a_dim_16_bit_frame_with_its_range(tmp_path):
    """The stock hook decodes to 8-bit colour (a 1000..1300 frame turns black);
    this hook reads the frame unchanged and the visualiser stretches it."""
    image, _, target = scene()
    dim = (1000 + image.astype(np.uint16)).astype(np.uint16)
    visualizer(tmp_path)
    out_dir = tmp_path / 'vis'
    hook = IRSTDVisualizationHook(draw=True, out_dir=str(out_dir))
    hook.after_test_iter(SimpleNamespace(iter=0), 0, {},
                         [scene_sample(tmp_path, 'dim.png', image=dim)])
    picture = cv2.imread(str(out_dir / 'dim.png'))
    assert picture[0:100, 200:500].min() == picture[0:100, 200:500].max() == 0
    assert picture[:400].max() == 255  # the targets, stretched to white


def test_irstd_hook_draws_outcomes_into_another_visualizers_backends(tmp_path):
    """A config with mmseg's SegLocalVisualizer (or none) still gets outcome pictures."""
    from mmseg.visualization import SegLocalVisualizer
    SegLocalVisualizer.get_instance(f'stock_{next(_names)}', save_dir=str(tmp_path / 'run'),
                                    vis_backends=[dict(type='LocalVisBackend')])
    hook = IRSTDVisualizationHook(draw=True)
    hook.after_test_iter(SimpleNamespace(iter=0), 0, {}, [scene_sample(tmp_path)])
    picture = cv2.imread(str(tmp_path / 'run/vis_data/vis_image/test_scene_01_0.png'))
    for outcome in ('hit', 'missed', 'false_alarm'):
        assert has_color(picture, OUTCOME_COLORS[outcome]), outcome


def test_visualiser_draws_a_prediction_without_ground_truth(tmp_path):
    """MMSegInferencer hands the config's visualiser samples with no mask: the
    IRSTD visualiser stopped with 'no gt_sem_seg'; it now draws the prediction."""
    image, prediction, _ = scene()
    sample = SegDataSample(metainfo=dict(img_path='frame.png'))
    sample.seg_logits = PixelData(data=torch.from_numpy(prediction[None] * 0.9 + 0.05).float())
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(prediction[None]).long())
    drawing = visualizer(tmp_path, 'LocalVisBackend')
    out_file = tmp_path / 'frame_vis.png'
    drawing.add_datasample('frame', image, sample, out_file=str(out_file))
    picture = cv2.imread(str(out_file))
    assert has_color(picture, OUTCOME_COLORS['prediction'])
    for outcome in ('hit', 'false_alarm', 'missed'):
        assert not has_color(picture, OUTCOME_COLORS[outcome]), outcome
