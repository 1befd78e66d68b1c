"""TL302 per-class-sampler-weights and TL303 sampler-with-shuffle on look-alike weight
expressions and loader arguments."""

from static_findings import findings, lines

HEAD = """
import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler
"""


def test_seed_snippet_names_indices_and_draws_and_fills_the_fix():
    src = HEAD + """
class_counts = [1000, 200]
weights = 1. / torch.tensor(class_counts, dtype=torch.float)
sampler = WeightedRandomSampler(weights, len(weights))
train_loader = DataLoader(dataset, batch_size=32, sampler=sampler)
"""
    (finding,) = findings("TL302", src)
    assert finding.location.line == 8
    assert "only ever draws the indices 0..1" in finding.message
    assert "num_samples=len(weights) = 2 is the number of classes" in finding.message
    assert finding.evidence["num_classes"] == 2
    fix = finding.fixes[0]
    assert fix.technique == "weighted-sampler"
    assert fix.params == {"dataset": "dataset", "train_loader": "train_loader", "batch_size": 32,
                          "class_counts": [1000, 200]}


def test_counts_from_np_unique_are_per_class():
    src = HEAD + """
_, counts = np.unique(y_train, return_counts=True)
sampler = WeightedRandomSampler(torch.tensor(1.0 / counts), num_samples=len(y_train))
"""
    assert lines("TL302", src) == [7]


def test_lookups_by_label_make_per_sample_weights():
    src = HEAD + """
class_weights = 1.0 / torch.bincount(labels).float()
s1 = WeightedRandomSampler(class_weights[labels], num_samples=len(labels))
sample_weights = [class_weights[t] for t in targets]
s2 = WeightedRandomSampler(sample_weights, len(sample_weights))
s3 = WeightedRandomSampler(class_weights.gather(0, labels), len(labels))
"""
    assert lines("TL302", src) == []


def test_literal_weights_count_as_per_class_only_when_as_many_as_num_samples():
    src = HEAD + """
a = WeightedRandomSampler([0.1, 0.9], 2)
b = WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement=True)
"""
    assert lines("TL302", src) == [6]


def test_per_sample_weights_with_num_samples_equal_to_the_number_of_classes():
    src = HEAD + """
sample_weights = class_w[labels]
sampler = WeightedRandomSampler(sample_weights, num_samples=num_classes)
"""
    (finding,) = findings("TL302", src)
    assert finding.location.line == 7
    assert "num_samples=num_classes is the number of classes" in finding.message


def test_unknown_weights_are_left_alone():
    src = HEAD + """
weights = make_weights_for_balanced_classes(dataset.imgs, len(dataset.classes))
sampler = WeightedRandomSampler(torch.DoubleTensor(weights), len(weights))
"""
    assert lines("TL302", src) == []


def test_sampler_with_shuffle_explicit_positional_and_from_kwargs():
    src = HEAD + """
kwargs = {"batch_size": 64, "shuffle": True}
a = DataLoader(ds, batch_size=64, shuffle=True, sampler=sampler)
b = DataLoader(ds, 64, True, sampler)
c = DataLoader(ds, sampler=sampler, **kwargs)
d = DataLoader(ds, batch_sampler=batches, shuffle=True)
"""
    found = findings("TL303", src)
    assert [f.location.line for f in found] == [7, 8, 9, 10]
    assert "(from `**kwargs`)" in found[2].message
    assert "batch_sampler=`batches`" in found[3].message


def test_shuffle_that_depends_on_the_sampler_or_a_missing_sampler_is_quiet():
    src = HEAD + """
a = DataLoader(ds, shuffle=(sampler is None), sampler=sampler)
b = DataLoader(ds, shuffle=True, sampler=None)
c = DataLoader(ds, shuffle=False, sampler=sampler)
d = DataLoader(ds, shuffle=args.shuffle, sampler=sampler)
"""
    assert lines("TL303", src) == []


def test_fix_names_the_labels_the_class_weights_were_computed_from():
    src = HEAD + """
from sklearn.utils.class_weight import compute_class_weight
class_weights = compute_class_weight("balanced", classes=np.unique(y_train), y=y_train)
sampler = WeightedRandomSampler(class_weights, num_samples=len(y_train))
"""
    (finding,) = findings("TL302", src)
    assert finding.fixes[0].params == {"labels": "y_train"}
    assert "`compute_class_weight` returns one weight per class" in finding.message


def test_weights_filled_in_a_loop_over_the_dataset_are_left_alone():
    src = HEAD + """
sample_weights = [0] * len(dataset)
for idx, (data, label) in enumerate(dataset):
    sample_weights[idx] = class_weights[label]
sampler = WeightedRandomSampler(sample_weights, num_samples=1, replacement=True)
"""
    assert lines("TL302", src) == []


def test_kwargs_that_lose_shuffle_somewhere_are_left_alone_but_setting_it_true_is_not():
    src = HEAD + """
kwargs = {"batch_size": 64, "shuffle": True}
if balanced:
    kwargs.pop("shuffle")
    kwargs["sampler"] = sampler
loader = DataLoader(ds, **kwargs)
"""
    assert lines("TL303", src) == []
    src = HEAD + """
kwargs = {"batch_size": 64, "sampler": sampler}
kwargs["shuffle"] = True
loader = DataLoader(ds, **kwargs)
"""
    assert lines("TL303", src) == [8]
