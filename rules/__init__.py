"""trainlint's checks, one module per concern; installed as ``trainlint.rules``.

Codes by hundreds: 1xx validation and leakage, 2xx overfitting and regularisation, 3xx class
imbalance, 4xx learning rate and optimizer, 5xx training loop, 6xx model graph, 7xx data,
9xx trainlint itself. The engine discovers every Rule subclass defined here.
"""
