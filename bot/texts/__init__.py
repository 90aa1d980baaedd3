"""The catalog's parts for the community features, one module each (``TEXTS``: key → language →
text), merged into :data:`bot.i18n.CATALOG`. The same rules hold as there: English and German for
every key, with the same ``{placeholders}``."""

EN = "en"
DE = "de"
