"""Routes of the web workplace, one module per area; each route declares its permission with
:func:`cxvalue.interfaces.web.auth.guard`."""
