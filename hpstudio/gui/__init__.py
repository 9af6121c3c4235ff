"""The Qt layer of hpstudio: the only package that imports PySide6 or pyqtgraph."""
