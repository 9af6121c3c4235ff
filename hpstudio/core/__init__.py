"""The headless core: specs, strategies, evaluation, execution and history.

Nothing under this package imports Qt, so the CLI, the tests and the GUI drive one
and the same study loop.
"""
