"""信易贷: financial institutions, subjects' consent to share their credit data with them, financing demands
and the whitelist feed."""
