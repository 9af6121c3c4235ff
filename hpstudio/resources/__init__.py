"""Data files shipped inside the package: icons, the Qt style sheet and the Linux .desktop entry.

They live in the package (rather than next to it) so that ``importlib.resources`` finds them the
same way in a source checkout, an installed wheel, a zip import and a PyInstaller bundle. Read them
through :mod:`hpstudio.gui.resources`; regenerate the icons with ``packaging/make_icons.py``.
"""
