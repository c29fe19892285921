"""The simulated Marketo instance: a seeded, deterministic world whose every fact is a function of time."""
