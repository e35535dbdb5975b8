"""mplib: the helper package of the Machine Perception notebooks.

Import the module you need (``from mplib import runtime, data, train, plot``);
nothing heavy is imported here so that ``import mplib`` stays instant.
"""

__version__ = "0.1.0"
