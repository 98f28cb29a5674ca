"""Finance over HTTP: thin routes that parse, authorise, call one use case and answer."""
