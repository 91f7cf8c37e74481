# A model that is not in the repository, for checking the codegen speed goals on unseen weights:
# ResNet-34 (basic blocks [3, 4, 6, 3]) written out in PyTorch, because torchvision in .venv-ref
# does not import with its torch. Random weights (seed 0) and random BatchNorm statistics; opset 17.
#   .venv-ref/bin/python bench/resnet34.py /tmp/resnet34.onnx
#   taskset -c 0 bash bench/codegen-speed.sh /tmp/resnet34.onnx
import sys

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        needs_projection = stride != 1 or cin != cout
        self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if needs_projection else None

    def forward(self, x):
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class ResNet34(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for cout, count, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
            for i in range(count):
                blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))


torch.manual_seed(0)
model = ResNet34().eval()
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):  # non-trivial statistics, so folding BatchNorm changes the weights
        m.running_mean.uniform_(-0.1, 0.1)
        m.running_var.uniform_(0.5, 1.5)
        m.weight.data.uniform_(0.5, 1.5)
        m.bias.data.uniform_(-0.1, 0.1)
torch.onnx.export(model, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=17, input_names=['input'], output_names=['logits'], dynamo=False)
print(f'wrote {sys.argv[1]}')
