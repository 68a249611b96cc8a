"""Pure domain rules: no IO, no Temporal; imported by the workflow and the API alike."""
