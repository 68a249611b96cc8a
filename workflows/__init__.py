"""Order workflow, its activities and the pure domain rules they use."""
