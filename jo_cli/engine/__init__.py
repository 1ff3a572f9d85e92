"""The journey engine (SPEC §6.2-§6.5): pure, with the clock, state, delivery and actions injected."""
