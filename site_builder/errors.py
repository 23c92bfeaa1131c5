"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class SiteBuilderError(Exception):
    """A failure with a message that says what went wrong and what to do about it."""


class ConfigError(SiteBuilderError):
    """The configuration file is missing, unreadable or invalid."""


class DataError(SiteBuilderError):
    """Input data (a provider response, a probe batch, a content file) is unusable."""


class CheckFailed(SiteBuilderError):
    """The built output failed a pre-deploy check; nothing may be published."""
