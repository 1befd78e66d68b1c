"""A dataset whose `targets` property raises and whose samples are dicts: the tracer must
record what it can and never disturb the run."""

import torch
from torch.utils.data import DataLoader, Dataset


class OddDataset(Dataset):
    @property
    def targets(self):
        raise RuntimeError("labels are loaded lazily")

    def __len__(self):
        return 64

    def __getitem__(self, i):
        return {"x": torch.full((4,), float(i)), "y": i % 2}


loader = DataLoader(OddDataset(), batch_size=16)
model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(2):
    for batch in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(batch["x"]), batch["y"]).backward()
        optimizer.step()
print("finished")
