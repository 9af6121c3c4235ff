"""Live pyqtgraph plots of a study, fed by trial records.

Import :class:`hpstudio.gui.plots.panel.PlotsPanel` for the tabbed set of plots;
each plot module also works on its own.
"""
