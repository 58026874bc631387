"""Running LLM judges on a study: options, scope, call log, the gate, the service."""
