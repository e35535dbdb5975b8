"""One light-weight way to build each widget, for the benchmark (no training here)."""

from mplib.widgets.neuron import NeuronWidget

FACTORIES = {
    "neuron (00)": NeuronWidget,
}
