"""The static HTML report: renders the views (see :mod:`.build`)."""
