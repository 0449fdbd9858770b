"""The one error of an alerts file that cannot be used."""


class AlertConfigError(ValueError):
    """An alerts file that cannot be used; the message names the file, the rule or channel, and the key."""
