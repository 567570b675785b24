"""The customers' own words (concepts.md D6): sentiment, themes and pain points in Chinese and
English comments and complaints, offline. :mod:`~cxvalue.text.language` routes each text by
script, :mod:`~cxvalue.text.tokenize` cuts it into tokens (jieba for Chinese)."""
