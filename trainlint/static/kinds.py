"""What a resolved callee creates: the kinds of object trainlint follows through a script.

Tables of qualified names only; nothing here imports the libraries it names.
"""

from __future__ import annotations

OPTIMIZERS = {
    "SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop", "Rprop", "ASGD", "LBFGS",
    "NAdam", "RAdam", "SparseAdam", "Adafactor", "Muon",
}
EPOCH_SCHEDULERS = {
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "ConstantLR",
    "PolynomialLR", "CosineAnnealingWarmRestarts", "LambdaLR", "MultiplicativeLR",
    "SequentialLR", "ChainedScheduler",
}
BATCH_SCHEDULERS = {"OneCycleLR", "CyclicLR"}
PLATEAU_SCHEDULERS = {"ReduceLROnPlateau"}
SCHEDULERS = EPOCH_SCHEDULERS | BATCH_SCHEDULERS | PLATEAU_SCHEDULERS

LOSSES = {
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
    "SoftMarginLoss", "CTCLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss",
    "MarginRankingLoss", "TripletMarginLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss",
}
FUNCTIONAL_LOSSES = {
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
}
SAMPLERS = {
    "WeightedRandomSampler", "RandomSampler", "SequentialSampler", "SubsetRandomSampler",
    "BatchSampler", "DistributedSampler",
}
DATASETS_TORCH = {"TensorDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset"}
SPLITS_TORCH = {"random_split", "Subset"}
SPLITS_SKLEARN = {
    "train_test_split", "KFold", "StratifiedKFold", "GroupKFold", "ShuffleSplit",
    "StratifiedShuffleSplit", "RepeatedKFold", "RepeatedStratifiedKFold", "StratifiedGroupKFold",
    "LeaveOneOut", "TimeSeriesSplit",
}
PREPROCESSORS = {
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "Normalizer",
    "QuantileTransformer", "PowerTransformer", "OneHotEncoder", "OrdinalEncoder", "LabelEncoder",
    "PolynomialFeatures", "KBinsDiscretizer", "PCA", "TruncatedSVD", "SimpleImputer",
    "KNNImputer", "TfidfVectorizer", "CountVectorizer", "SelectKBest", "VarianceThreshold",
}
# Transforms whose output differs from call to call: augmentation.
RANDOM_TRANSFORM_PREFIXES = ("Random",)
RANDOM_TRANSFORMS = {
    "ColorJitter", "RandAugment", "AutoAugment", "TrivialAugmentWide", "AugMix", "GaussianBlur",
    "ElasticTransform", "RandomErasing", "ScaleJitter",
}
LAYERS_DROPOUT = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"}
LAYERS_NORM = {
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyBatchNorm3d",
}
LAYERS_OTHER_NORM = {"LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm"}
LAYERS_RECURRENT = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"}

# Methods that return the same object (model.to(device) is still the model).
SELF_RETURNING = {"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "eval",
                  "requires_grad_", "share_memory"}


def classify(qualname: str | None) -> str | None:
    """The kind of object a call to ``qualname`` creates, or None."""
    if not qualname:
        return None
    parts = qualname.split(".")
    last = parts[-1]
    root = parts[0]
    if root == "torch":
        if "lr_scheduler" in parts and last in SCHEDULERS:
            return "scheduler"
        if len(parts) >= 2 and parts[1] == "optim" and last in OPTIMIZERS:
            return "optimizer"
        if last == "DataLoader":
            return "loader"
        if last in SAMPLERS and "data" in parts:
            return "sampler"
        if last in SPLITS_TORCH and "data" in parts:
            return "split"
        if last in DATASETS_TORCH and "data" in parts:
            return "dataset"
        if "nn" in parts and last in LOSSES:
            return "loss"
        if "nn" in parts and last == "Sequential":
            return "model"
        if "nn" in parts and "functional" not in parts and last[:1].isupper():
            return "layer"
        return None
    if root == "torchvision":
        if "transforms" in parts:
            return "transform"
        if "datasets" in parts:
            return "dataset"
        if "models" in parts:
            return "model"
        return None
    if root == "timm" and last == "create_model":
        return "model"
    if root == "sklearn":
        if last in SPLITS_SKLEARN:
            return "split"
        if last in PREPROCESSORS:
            return "preprocessor"
        return None
    if root == "imblearn":
        if "over_sampling" in parts or "under_sampling" in parts or "combine" in parts:
            return "resampler"
        return None
    # Names the resolver could not tie to an import: recognise the unmistakable ones only.
    if len(parts) == 1:
        if last == "DataLoader":
            return "loader"
        if last in SCHEDULERS:
            return "scheduler"
        if last == "train_test_split":
            return "split"
    return None


def is_random_transform(type_name: str) -> bool:
    return type_name.startswith(RANDOM_TRANSFORM_PREFIXES) or type_name in RANDOM_TRANSFORMS
