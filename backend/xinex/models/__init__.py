"""SQLModel tables, one module per aggregate. Importing this package registers every module in it,
so a new aggregate needs no edit here."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
