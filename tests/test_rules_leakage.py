"""TL103 / TL104 / TL105 on the data-flow cases the fixtures do not pin."""

from static_findings import findings, lines

SK = """
from imblearn.over_sampling import SMOTE, RandomOverSampler
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import KBinsDiscretizer, LabelEncoder, MinMaxScaler, StandardScaler
import torch
from torch.utils.data import TensorDataset, random_split
"""


def test_fit_then_transform_then_split_is_reported_at_the_fit():
    src = SK + """
scaler = MinMaxScaler()
scaler.fit(X)
X_train, X_val, y_train, y_val = train_test_split(scaler.transform(X), y, test_size=0.25)
"""
    (finding,) = findings("TL103", src)
    assert finding.location.line == 9
    assert "`scaler` (MinMaxScaler) is fitted on `X`" in finding.message
    assert "`train_test_split` at line 10" in finding.message
    fix = finding.fixes[0]
    assert fix.technique == "fit-after-split"
    assert fix.params == {"features": "X", "labels": "y", "test_size": 0.25,
                          "scaler_class": "MinMaxScaler", "scaler": "scaler"}


def test_scaled_tensors_reach_random_split_through_a_dataset():
    src = SK + """
X_s = StandardScaler().fit_transform(X)
dataset = TensorDataset(torch.tensor(X_s), torch.tensor(y))
train_set, val_set = random_split(dataset, [0.8, 0.2])
"""
    assert lines("TL103", src) == [8]


def test_label_encoding_before_the_split_is_quiet():
    src = SK + """
y = LabelEncoder().fit_transform(y)
X_train, X_val, y_train, y_val = train_test_split(X, y)
"""
    assert lines("TL103", src) == []


def test_fitting_on_the_training_part_is_quiet_even_with_a_second_split_of_the_rest():
    src = SK + """
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.3)
scaler = StandardScaler().fit(X_train)
X_val, X_test, y_val, y_test = train_test_split(scaler.transform(X_rest), y_rest, test_size=0.5)
"""
    assert lines("TL103", src) == []


def test_normalising_in_two_statements_is_one_finding_at_the_first():
    src = SK + """
mean = X.mean(axis=0)
std = X.std(axis=0)
X = (X - mean) / std
for train_idx, val_idx in KFold(5).split(X):
    pass
"""
    (finding,) = findings("TL103", src)
    assert finding.location.line == 8
    assert "mean and std" in finding.message and "`KFold`" in finding.message


def test_a_label_threshold_at_the_mean_is_not_normalisation():
    src = SK + """
y = (X[:, 0] > X[:, 0].mean()).astype(int)
X_train, X_val, y_train, y_val = train_test_split(X, y)
"""
    assert lines("TL103", src) == []


def test_oversampling_before_random_split_through_tensors():
    src = SK + """
X_res, y_res = RandomOverSampler().fit_resample(X, y)
full = TensorDataset(torch.tensor(X_res), torch.tensor(y_res))
train_set, val_set = random_split(full, [0.8, 0.2])
"""
    (finding,) = findings("TL105", src)
    assert finding.location.line == 8
    assert "`RandomOverSampler()` resamples `X, y`" in finding.message
    assert finding.fixes[0].technique == "smote"
    assert finding.fixes[0].params == {"features": "X", "labels": "y"}


def test_resampling_the_training_part_is_quiet():
    src = SK + """
X_train, X_val, y_train, y_val = train_test_split(X, y, stratify=y)
X_train, y_train = SMOTE(k_neighbors=3).fit_resample(X_train, y_train)
"""
    assert lines("TL105", src) == []


TV = """
import torch
from torchvision import datasets, transforms
aug = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
plain = transforms.Compose([transforms.ToTensor()])
tfms = {"train": aug, "val": plain}
"""


def test_dict_entry_by_constant_key_is_followed():
    src = TV + """
val_set = datasets.CIFAR10("data", train=False, transform=tfms["train"])
ok_set = datasets.CIFAR10("data", train=False, transform=tfms["val"])
"""
    (finding,) = findings("TL104", src)
    assert finding.location.line == 8
    assert "(RandomCrop)" in finding.message


def test_inline_test_dataset_inside_a_loader_is_reported():
    src = TV + """
test_loader = torch.utils.data.DataLoader(datasets.MNIST("data", False, aug), batch_size=100)
"""
    assert lines("TL104", src) == [8]


def test_transform_helpers_and_conditional_transforms_are_not_guessed():
    src = TV + """
def get_transform(train):
    steps = [transforms.ToTensor()]
    if train:
        steps.append(transforms.RandomHorizontalFlip())
    return transforms.Compose(steps)
test_set = datasets.CIFAR10("data", train=False, transform=get_transform(train=False))
val_set = datasets.CIFAR10("data", train=False, transform=aug if augment_eval else plain)
"""
    assert lines("TL104", src) == []


def test_validation_part_given_its_own_transform_afterwards_is_quiet():
    src = TV + """
full = datasets.ImageFolder("images", transform=aug)
train_part, val_part = torch.utils.data.random_split(full, [0.8, 0.2])
val_part.dataset.transform = plain
"""
    assert lines("TL104", src) == []


def test_training_part_of_an_augmented_split_is_quiet_and_the_validation_part_reported():
    src = TV + """
full = datasets.ImageFolder("images", transform=aug)
train_part, holdout = torch.utils.data.random_split(full, [0.8, 0.2])
"""
    (finding,) = findings("TL104", src)
    assert finding.location.line == 9
    assert "validation part `holdout`" in finding.message


def test_label_encoder_is_for_labels_unless_a_name_says_features():
    src = SK + """
y = LabelEncoder().fit_transform(data[:, 0])
y_bins = KBinsDiscretizer(n_bins=3).fit_transform(y.reshape(-1, 1))
X_train, X_val, y_train, y_val = train_test_split(X, y_bins)
"""
    assert lines("TL103", src) == []
    src = SK + """
y = LabelEncoder().fit_transform(data[:, 0])
X_cat = LabelEncoder().fit_transform(X[:, 3])
X_train, X_val, y_train, y_val = train_test_split(X_cat, y)
"""
    assert lines("TL103", src) == [9]


def test_albumentations_flips_on_the_validation_dataset():
    src = """
import albumentations as A
from albumentations.pytorch import ToTensorV2
train_aug = A.Compose([A.Resize(256, 256), A.HorizontalFlip(), A.RandomBrightnessContrast(), ToTensorV2()])
valid_aug = A.Compose([A.Resize(256, 256), A.Normalize(), ToTensorV2()])
train_ds = LeafDataset(train_df, transform=train_aug)
valid_ds = LeafDataset(valid_df, transform=train_aug)
test_ds = LeafDataset(test_df, transform=valid_aug)
"""
    (finding,) = findings("TL104", src)
    assert finding.location.line == 7
    assert "(HorizontalFlip, RandomBrightnessContrast)" in finding.message


def test_splits_made_by_slicing_count_as_splits():
    src = SK + """
X = StandardScaler().fit_transform(X)
X_train, X_test = X[:800], X[800:]
"""
    (finding,) = findings("TL103", src)
    assert finding.location.line == 8
    assert "the hand-made split at line 9 (`X_train, X_test = X[:800], X[800:]`)" in finding.message
    src = SK + """
X = (X - X.mean(axis=0)) / X.std(axis=0)
X_val = X[val_idx]
"""
    assert lines("TL103", src) == [8]
    src = SK + """
X_res, y_res = SMOTE().fit_resample(X, y)
X_val, y_val = X_res[n_train:], y_res[n_train:]
"""
    assert lines("TL105", src) == [8]


def test_slicing_before_the_fit_or_a_single_row_is_not_a_split():
    src = SK + """
X_test = X[800:]
scaler = StandardScaler().fit(X[:800])
X = (X - X.mean(axis=0)) / X.std(axis=0)
first_test = X[0]
"""
    assert lines("TL103", src) == []


def test_min_max_scaling_by_hand_is_normalisation_but_a_shift_is_not():
    src = SK + """
w = (w - w.min() + 1).astype(int)
X = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
train_set, val_set = random_split(TensorDataset(torch.tensor(X), torch.tensor(w)), [0.8, 0.2])
"""
    assert lines("TL103", src) == [9]


def test_columns_scaled_in_place_in_a_frame_that_is_split_afterwards():
    src = SK + """
import pandas as pd
df = pd.read_csv("churn.csv")
df[num_cols] = StandardScaler().fit_transform(df[num_cols])
X_train, X_val, y_train, y_val = train_test_split(df.drop(columns="churn"), df["churn"], stratify=df["churn"])
"""
    assert lines("TL103", src) == [10]
    src = SK + """
import pandas as pd
df = pd.read_csv("churn.csv")
train_df, val_df = train_test_split(df, test_size=0.2)
scaler = StandardScaler().fit(train_df[num_cols])
train_df[num_cols] = scaler.transform(train_df[num_cols])
"""
    assert lines("TL103", src) == []


def test_a_hand_made_split_in_another_function_is_not_this_fit_s_split():
    src = SK + """
def check_scaler(X):
    return StandardScaler().fit_transform(X)

def check_holdout(X):
    X_test = X[80:]
    return X_test
"""
    assert lines("TL103", src) == []


def test_a_train_val_dataset_is_training_data():
    src = TV + """
trainval_set = datasets.ImageFolder("voc/trainval", transform=aug)
train_val_ds = LeafDataset(files, transform=aug)
"""
    assert lines("TL104", src) == []


def test_fit_in_one_function_is_not_linked_to_a_split_of_the_global_of_that_name():
    # scikit-learn's own tests: a local X is rebuilt with np.c_ and scaled in one test, the
    # module-level X is split in another. The local must shadow the global even when the walk
    # does not follow what it was rebuilt from.
    source = """
        import numpy as np
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        X, y = load_data()

        def test_scaled():
            X = np.c_[load_data()[0], noise]
            X = StandardScaler().fit_transform(X)

        def test_split():
            return train_test_split(X, y, random_state=42)
    """
    assert lines("TL103", source) == []


def test_fit_before_a_split_in_the_same_function_is_still_found():
    source = """
        import numpy as np
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        def main():
            X = np.c_[load_data()[0], noise]
            X = StandardScaler().fit_transform(X)
            return train_test_split(X, y, random_state=42)
    """
    assert lines("TL103", source) == [8]
