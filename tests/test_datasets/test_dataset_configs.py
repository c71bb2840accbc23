"""Every dataset base config parses and its pipelines build from the registries."""
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from .conftest import REPO_ROOT

CONFIGS = ['sirst', 'nudt_sirst', 'irstd1k', 'sirst_aug', 'noisy_sirst', 'synthetic']
# (batch size, crop side) per SERANKDET.md section 2; synthetic is the CPU demo.
EXPECTED = {'sirst': (4, 512), 'nudt_sirst': (8, 256), 'irstd1k': (4, 512),
            'sirst_aug': (8, 256), 'noisy_sirst': (4, 512), 'synthetic': (8, 128)}


@pytest.mark.parametrize('name', CONFIGS)
def test_dataset_config_is_consistent(name):
    config = Config.fromfile(REPO_ROOT / 'configs' / '_base_' / 'datasets' / f'{name}.py')
    batch, side = EXPECTED[name]
    assert config.train_dataloader.batch_size == batch
    assert tuple(config.crop_size) == (side, side) and config.base_size == side
    assert config.train_dataloader.sampler == dict(type='DefaultSampler', shuffle=True)
    for loader in (config.val_dataloader, config.test_dataloader):
        assert loader.batch_size == 1
        assert loader.sampler == dict(type='DefaultSampler', shuffle=False)
    assert config.val_evaluator == config.test_evaluator == dict(type='IRSTDMetric')
    for pipeline in (config.train_pipeline, config.test_pipeline,
                     config.test_pipeline_resize_to_base, config.tta_pipeline):
        assert len(Compose(pipeline).transforms) == len(pipeline)
    assert [t['type'] for t in config.test_pipeline] == [
        'LoadIRImageFromFile', 'LoadIRAnnotations', 'PackSegInputs']
