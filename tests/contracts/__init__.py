# Contract tests: what the connectors send and parse, checked against the platforms' documented shapes.
