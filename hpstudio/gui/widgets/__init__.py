"""Widgets of the main window: the study editor, trial details, log, studies browser.

Each module holds one widget that can be built and shown on its own; none of them opens
SQLite or fits a model: they show records and ask the core through the main window.
"""
