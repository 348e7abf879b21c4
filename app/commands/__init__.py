"""One module per `ctower` command: argument handling and output, the work lives elsewhere."""


class UsageError(ValueError):
    """The command's arguments do not make sense together; exit 2 with this message."""
