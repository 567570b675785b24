"""The web workplace (``cxvalue serve``): FastAPI pages and JSON rendering the same views as the
report and the terminal. See :mod:`.app`."""
