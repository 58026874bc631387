"""Running LLM judges on a study: options, scope, call log, the gate, the served-model check,
the service."""
