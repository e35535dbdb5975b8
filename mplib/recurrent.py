"""A many-to-one sequence regressor around ``nn.RNN`` / ``nn.LSTM`` (§4.1, §4.2).

The recurrent layer reads the whole sequence (batch first); a linear read-out of the last
hidden state gives one number per sequence, ŷ = W_y h^(T) + b. Used for the adding problem.
"""

from __future__ import annotations

from torch import nn

from . import checks

CELLS = {"elman": nn.RNN, "lstm": nn.LSTM}


class SequenceRegressor(nn.Module):
    """Many-to-one: (N, T, input_size) -> (N,), a linear read-out of the last hidden state."""

    def __init__(self, cell: str = "lstm", input_size: int = 2, hidden_size: int = 64,
                 num_layers: int = 1):
        super().__init__()
        checks.choice(cell, "cell", CELLS)
        input_size = checks.integer(input_size, "input_size")
        hidden_size = checks.integer(hidden_size, "hidden_size")
        num_layers = checks.integer(num_layers, "num_layers")
        self.cell = cell
        self.rnn = CELLS[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, x):
        if x.dim() != 3:
            raise ValueError(f"x must have shape (N, T, input_size), got {tuple(x.shape)}")
        out, _ = self.rnn(x)
        return self.readout(out[:, -1]).squeeze(-1)
