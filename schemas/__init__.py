"""Types that cross a boundary: API bodies, workflow inputs and results, enums."""
