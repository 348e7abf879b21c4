"""One module per `ctower` command: argument handling and output, the work lives elsewhere."""
