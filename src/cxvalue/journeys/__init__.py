"""Journeys on instrumented channels (concepts.md D9, D9+): funnels, the composite index per
channel, statistical process control of journey steps, and the NPS and churn of customers whose
journey had friction. See :mod:`cxvalue.journeys.funnels` and :mod:`cxvalue.journeys.spc`."""
